/**
 * The difference between two rings as a list of moves: each hash range whose owner changed,
 * with its old and new owner. A rebalance plan is made of these.
 */
import { ShardkvError } from '../errors/codes.js';
import { MAX_HASH } from './hash-space.js';
import type { Ring } from './ring.js';

/**
 * The hashes in (start, end] move from group `from` to group `to`. The range wraps past 2^64-1
 * when start >= end; start === end is the whole hash space.
 */
export interface RingMove {
  start: bigint;
  end: bigint;
  from: string;
  to: string;
}

/**
 * The moves that turn ring `a` into ring `b`, ascending by end, adjacent moves with the same
 * from and to merged (also across 2^64-1 -> 0). Both rings must have at least one group.
 */
export function diffRings(a: Ring, b: Ring): RingMove[] {
  if (a.groupCount === 0 || b.groupCount === 0) {
    throw new ShardkvError('BAD_ARGUMENTS', 'diffRings needs two rings with at least one group each');
  }
  // Between two consecutive boundaries (the tokens of both rings, and 2^64-1) both owners are constant.
  const boundaries = [...new Set([...a.entries(), ...b.entries()].map((entry) => entry.token).concat(MAX_HASH))]
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const moves: RingMove[] = [];
  let start = MAX_HASH; // the first range is [0, boundary 0], i.e. (2^64-1, boundary 0]
  for (const end of boundaries) {
    const from = a.ownerOfHash(end);
    const to = b.ownerOfHash(end);
    if (from !== to) {
      const last = moves[moves.length - 1];
      if (last !== undefined && last.end === start && last.from === from && last.to === to) last.end = end;
      else moves.push({ start, end, from, to });
    }
    start = end;
  }
  const first = moves[0];
  const last = moves[moves.length - 1];
  if (moves.length > 1 && first!.start === MAX_HASH && last!.end === MAX_HASH && first!.from === last!.from && first!.to === last!.to) {
    first!.start = last!.start;
    moves.pop();
  }
  return moves;
}
