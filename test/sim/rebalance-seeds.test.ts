import t from 'tap';
import { checkRebalanceSeeds } from './rebalance-seed-range.js';

// Leaders answer refusals after the txns proposed before them commit: the behaviour the real
// write path needs (see rebalance-broken.test.ts for what today's answer-at-prepare does).
checkRebalanceSeeds(t, 0, 300, { refusals: 'after-pending-commit' });
