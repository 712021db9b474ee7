/**
 * Hash ranges as they travel in rebalancing txns and messages: `[start, end]` as 16-digit hex
 * strings (bigints do not survive every codec), meaning the hashes in (start, end] with the
 * ring's wrap-around (ring/hash-space.ts). Pure helpers to validate and test membership.
 */
import { ShardkvError } from '../errors/codes.js';
import { hashToHex, rangeContains } from '../ring/hash-space.js';
import type { SnapshotNode } from './tree-snapshot.js';

/** (start, end] of the 64-bit hash space, each bound as 16 lower-case hex digits. */
export type HashRangeText = [start: string, end: string];

export interface HashRange {
  start: bigint;
  end: bigint;
}

const HEX64 = /^[0-9a-f]{16}$/;

export function rangeToText(range: HashRange): HashRangeText {
  return [hashToHex(range.start), hashToHex(range.end)];
}

/** Throws BAD_ARGUMENTS unless `value` is a non-empty list of [hex16, hex16]. */
export function parseRanges(value: unknown): HashRange[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ShardkvError('BAD_ARGUMENTS', 'ranges must be a non-empty list of [startHex, endHex]');
  }
  return value.map((range: unknown) => {
    if (!Array.isArray(range) || range.length !== 2 || !range.every((bound) => typeof bound === 'string' && HEX64.test(bound))) {
      throw new ShardkvError('BAD_ARGUMENTS', `a range is [startHex, endHex] of 16 hex digits each, got ${JSON.stringify(range)}`);
    }
    return { start: BigInt(`0x${range[0] as string}`), end: BigInt(`0x${range[1] as string}`) };
  });
}

export function rangesContain(ranges: readonly HashRange[], hash: bigint): boolean {
  for (const range of ranges) if (rangeContains(range.start, range.end, hash)) return true;
  return false;
}

/**
 * Part of a hash range's state as one group holds it, for another group to set exactly:
 * full node records (SnapshotNode tuples: stat fields, kind, owner, TTL kept), directory
 * counters `[path, creates, pzxid]` (applied as the max of held and given, so sequential names
 * never repeat), open sessions `[id, timeout_ms]`, and, in a tail, nodes deleted and sessions
 * closed since the last image.
 */
export interface RangeImage {
  nodes: SnapshotNode[];
  dirs: Array<[path: string, creates: number, pzxid: number]>;
  sessions: Array<[sessionId: number, timeout_ms: number]>;
  deletes: string[];
  closedSessions: number[];
}

/**
 * Fences are kept as ordinary persistent nodes under this reserved directory (data: the
 * FenceRecord as JSON), so snapshots and recovery carry them with no format change. Clients
 * cannot write under it, and range exports skip it.
 */
export const FENCES_DIR = '/__shardkv/fences';
export const RESERVED_PREFIX = '/__shardkv/';

export function fencePath(fenceId: string): string {
  return `${FENCES_DIR}/${fenceId}`;
}

/**
 * The highest rebalance coordinator token (fencing token) this group has accepted, kept as a
 * reserved node (data: the token in decimal) so that every replica, a later leader and a
 * restart all refuse a stale coordinator alike. Range txns carrying a lower token are refused
 * at prepare (STALE_COORDINATOR); apply only ever raises it.
 */
export const COORDINATOR_TOKEN_PATH = '/__shardkv/coordinator';

/** How a shard places keys: xxh64 of the placement key, and of a session's placement key. */
export interface PlacementHash {
  ofKey(placementKey: string): bigint;
  ofSession(sessionId: number): bigint;
}

/** A fence as the tree keeps it: writes whose placement hash is in `ranges` are refused. */
export interface FenceRecord {
  ranges: HashRangeText[];
  /** The ring version that will hand the ranges to their new owner. */
  toRingVersion: number;
}
