/**
 * A zxid names one transaction: the epoch of the leader that proposed it and a counter inside that
 * epoch. It is a plain JS number, epoch * 2^32 + counter, so it compares with < and > and travels
 * through msgpack as a number. Epochs stay below 2^21 so the value stays an exact integer.
 */
import { invariant } from '../errors/codes.js';

export const COUNTER_SPAN = 2 ** 32;
export const MAX_EPOCH = 2 ** 21 - 1;
/** The zxid before any transaction: the empty history. */
export const ZERO_ZXID = 0;

export function makeZxid(epoch: number, counter: number): number {
  if (!(Number.isInteger(epoch) && epoch >= 0 && epoch <= MAX_EPOCH)) invariant(false, `epoch out of range: ${epoch}`);
  if (!(Number.isInteger(counter) && counter >= 0 && counter < COUNTER_SPAN)) invariant(false, `counter out of range: ${counter}`);
  return epoch * COUNTER_SPAN + counter;
}

export function epochOf(zxid: number): number {
  return Math.floor(zxid / COUNTER_SPAN);
}

export function counterOf(zxid: number): number {
  return zxid % COUNTER_SPAN;
}

/** The zxid a leader of `epoch` gives its next proposal after `last`. */
export function nextZxid(last: number, epoch: number): number {
  const lastEpoch = epochOf(last);
  if (lastEpoch > epoch) invariant(false, `a leader of epoch ${epoch} cannot follow ${formatZxid(last)}`);
  return lastEpoch === epoch ? makeZxid(epoch, counterOf(last) + 1) : makeZxid(epoch, 1);
}

/**
 * Every epoch has one owner: the member at index (epoch mod ensemble size) of the sorted member
 * list. Two prospective leaders can then never choose the same epoch, so "one leader per epoch"
 * holds by construction; the quorum of promises (acceptedEpoch) orders the epochs.
 */
export function epochOwner(epoch: number, members: readonly number[]): number {
  const sorted = [...members].sort((a, b) => a - b);
  return sorted[epoch % sorted.length]!;
}

/** The smallest epoch above `after` that `id` owns. */
export function nextOwnedEpoch(after: number, id: number, members: readonly number[]): number {
  const sorted = [...members].sort((a, b) => a - b);
  const index = sorted.indexOf(id);
  invariant(index >= 0, `${id} is not a member`);
  const size = sorted.length;
  return after + 1 + ((index - ((after + 1) % size) + size) % size);
}

/** ZooKeeper's hexadecimal form, e.g. 0x300000002; with the parts for logs: 0x300000002 (3:2). */
export function formatZxid(zxid: number): string {
  return `0x${zxid.toString(16)} (${epochOf(zxid)}:${counterOf(zxid)})`;
}
