import t from 'tap';
import { checkRebalanceSeeds } from './rebalance-seed-range.js';

// Leaders answer refusals after the txns proposed before them commit, as ZabReplica.proposeWith
// does (rebalance-broken.test.ts shows what the old answer-at-prepare did).
checkRebalanceSeeds(t, 0, 300);
