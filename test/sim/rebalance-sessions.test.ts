import t from 'tap';
import { checkRebalanceSeeds } from './rebalance-seed-range.js';

// Sessions and ephemerals while the range moves (sim-sessions.ts), as ShardReplica answers
// (a read barrier before SESSION_EXPIRED). Seeds from 1000: a range of their own, apart from the
// rebalance seeds without sessions (their runs differ).
checkRebalanceSeeds(t, 1000, 120, { sessions: true });
