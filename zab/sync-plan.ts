/**
 * How a leader brings a follower to its history (ZAB synchronisation), from what the follower
 * reported in ACKEPOCH. Zxids name proposals uniquely (one leader per epoch), and a follower's log
 * inside one epoch is a prefix of what that epoch's leader proposed; so the common prefix of the
 * two histories ends, epoch by epoch, at the last follower zxid the leader also has.
 */
import { invariant } from '../errors/codes.js';
import type { LogWindow } from './log-window.js';
import { epochOf, formatZxid } from './zxid.js';

export interface FollowerHistory {
  appliedZxid: number;
  lastZxid: number;
  epochLasts: readonly number[];
}

export type SyncPlan =
  /** Send the records after `from`; TRUNC first drops the follower's records after `from`. */
  | { mode: 'DIFF' | 'TRUNC'; from: number }
  /** The follower's applied point is older than the leader's window: send a state snapshot. */
  | { mode: 'SNAP' };

export function planSync(log: LogWindow, follower: FollowerHistory): SyncPlan {
  if (follower.appliedZxid < log.base) return { mode: 'SNAP' };
  // The follower applied it, so it is committed, so this leader (elected with every committed zxid) has it.
  invariant(log.has(follower.appliedZxid), `follower applied ${formatZxid(follower.appliedZxid)}, which the leader's history lacks`);
  let common = follower.appliedZxid;
  for (const last of follower.epochLasts) {
    if (log.has(last)) {
      common = last;
      continue;
    }
    const shared = log.lastOfEpochAtMost(epochOf(last), last);
    if (shared !== undefined && shared > common) common = shared;
    break;
  }
  return { mode: common === follower.lastZxid ? 'DIFF' : 'TRUNC', from: common };
}
