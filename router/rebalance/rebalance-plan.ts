/**
 * The rebalance plan: what ring v -> v+1 moves, as transfers (all the ranges going from one
 * group to another), with each transfer's progress. It lives in the meta tree as JSON
 * (/rebalance/plan), written only by the active coordinator, read by every router. Pure.
 *
 * Transfer states: pending -> copying -> tailing -> fenced -> committed -> dropped.
 * Plan states: moving (copy, tail, fence every transfer) -> committing (ring v+1 in /ring)
 * -> dropping (sources forget the ranges) -> done. `failed` stops it (e.g. the ring changed
 * under it); a new plan may then start.
 */
import { ShardkvError } from '../../errors/codes.js';
import { diffRings, type Ring, type RingDocument } from '../../ring/index.js';
import { rangeToText, type HashRangeText } from '../../znode/range-transfer.js';

export const REBALANCE_PATH = '/rebalance';
export const PLAN_PATH = '/rebalance/plan';
export const ELECTION_PATH = '/rebalance/election';

export type TransferState = 'pending' | 'copying' | 'tailing' | 'fenced' | 'committed' | 'dropped';
export type PlanState = 'moving' | 'committing' | 'dropping' | 'done' | 'failed';

export interface PlanTransfer {
  id: string;
  from: string;
  to: string;
  ranges: HashRangeText[];
  /** Fraction of the hash space the ranges cover. */
  share: number;
  state: TransferState;
  keysTotal: number;
  keysCopied: number;
  tailKeys: number;
  bytesCopied: number;
  attempts: number;
  startedAt_ms?: number;
  fencedAt_ms?: number;
  committedAt_ms?: number;
  droppedAt_ms?: number;
  lastError?: string;
}

export interface RebalancePlan {
  id: string;
  action: 'add' | 'remove';
  group: string;
  fromRingVersion: number;
  toRingVersion: number;
  /** The ring the plan commits (as /ring will hold it). */
  targetRing: RingDocument;
  state: PlanState;
  transfers: PlanTransfer[];
  createdAt_ms: number;
  updatedAt_ms: number;
  finishedAt_ms?: number;
  /** Router that coordinates it now. */
  coordinator?: string;
  error?: string;
}

export function isActive(plan: RebalancePlan | undefined): boolean {
  return plan !== undefined && plan.state !== 'done' && plan.state !== 'failed';
}

/** A plan to add `group` to the ring (it must not be on it) or remove it (it must be, with another group left). */
export function makePlan(ring: Ring, action: 'add' | 'remove', group: string, now_ms: number): RebalancePlan {
  if (action === 'add' && ring.hasGroup(group)) throw new ShardkvError('BAD_ARGUMENTS', `group ${group} is already on the ring`, { group });
  if (action === 'remove' && !ring.hasGroup(group)) throw new ShardkvError('BAD_ARGUMENTS', `group ${group} is not on the ring`, { group });
  if (action === 'remove' && ring.groupCount < 2) throw new ShardkvError('BAD_ARGUMENTS', `group ${group} is the last group of the ring`, { group });
  if (action === 'add' && ring.groupCount === 0) throw new ShardkvError('BAD_ARGUMENTS', 'the ring has no groups yet: bootstrap it first');
  const next = action === 'add' ? ring.withGroupAdded(group) : ring.withGroupRemoved(group);
  const byPair = new Map<string, PlanTransfer>();
  for (const move of diffRings(ring, next)) {
    const key = `${move.from}>${move.to}`;
    let transfer = byPair.get(key);
    if (transfer === undefined) {
      transfer = {
        id: `v${next.version}-${move.from}-${move.to}`, from: move.from, to: move.to, ranges: [], share: 0,
        state: 'pending', keysTotal: 0, keysCopied: 0, tailKeys: 0, bytesCopied: 0, attempts: 0,
      };
      byPair.set(key, transfer);
    }
    transfer.ranges.push(rangeToText(move));
    const width = (move.end - move.start) & ((1n << 64n) - 1n);
    transfer.share += Number(width === 0n ? 1n << 64n : width) / 2 ** 64;
  }
  return {
    id: `${action}-${group}-v${next.version}`, action, group, fromRingVersion: ring.version, toRingVersion: next.version,
    targetRing: next.toJSON(), state: 'moving', transfers: [...byPair.values()], createdAt_ms: now_ms, updatedAt_ms: now_ms,
  };
}

export interface PlanSummary {
  state: PlanState;
  transfers: number;
  transfersDone: number;
  keysTotal: number;
  keysCopied: number;
  bytesCopied: number;
  /** Copy rate since the plan started, bytes per second. */
  rate_bytes_per_s: number;
  /** Estimated time to finish the copy, from the key rate; null when unknown. */
  eta_s: number | null;
  /** 0..1 */
  fraction: number;
}

const DONE_STATES = new Set<TransferState>(['fenced', 'committed', 'dropped']);

export function summarise(plan: RebalancePlan, now_ms: number): PlanSummary {
  const keysTotal = plan.transfers.reduce((sum, tr) => sum + tr.keysTotal, 0);
  const keysCopied = plan.transfers.reduce((sum, tr) => sum + Math.min(tr.keysCopied, tr.keysTotal), 0);
  const bytesCopied = plan.transfers.reduce((sum, tr) => sum + tr.bytesCopied, 0);
  const transfersDone = plan.transfers.filter((tr) => DONE_STATES.has(tr.state)).length;
  const elapsed_s = Math.max(0.001, ((plan.finishedAt_ms ?? now_ms) - plan.createdAt_ms) / 1000);
  const finished = plan.state === 'done' || plan.state === 'dropping' || plan.state === 'committing';
  const fraction = finished ? 1 : plan.transfers.length === 0 ? 1 : plan.transfers.reduce((sum, tr) => sum + transferFraction(tr), 0) / plan.transfers.length;
  const keyRate = keysCopied / elapsed_s;
  const eta_s = finished ? 0 : keyRate > 0 && keysTotal > 0 ? Math.max(0, (keysTotal - keysCopied) / keyRate) : null;
  return {
    state: plan.state, transfers: plan.transfers.length, transfersDone, keysTotal, keysCopied, bytesCopied,
    rate_bytes_per_s: bytesCopied / elapsed_s, eta_s, fraction,
  };
}

export function transferFraction(transfer: PlanTransfer): number {
  if (DONE_STATES.has(transfer.state)) return 1;
  if (transfer.keysTotal === 0) return transfer.state === 'tailing' ? 1 : 0;
  return Math.min(1, transfer.keysCopied / transfer.keysTotal);
}
