/**
 * The 64-bit hash space of the ring: hashes are unsigned 64-bit integers (bigint at the API),
 * a token owns the range (previous token, token], and ranges wrap around from 2^64-1 to 0.
 */

/** Number of points in the hash space: 2^64. */
export const HASH_SPACE_SIZE = 1n << 64n;

/** The largest hash, 2^64-1. */
export const MAX_HASH = HASH_SPACE_SIZE - 1n;

/**
 * Number of hashes in the range (start, end], wrapping past 2^64-1; start === end means the
 * whole space (the only range a single token owns).
 */
export function rangeWidth(start: bigint, end: bigint): bigint {
  const width = (end - start) & MAX_HASH;
  return width === 0n ? HASH_SPACE_SIZE : width;
}

/** Whether `hash` lies in the range (start, end] (wrapping; start === end is the whole space). */
export function rangeContains(start: bigint, end: bigint, hash: bigint): boolean {
  if (start === end) return true;
  return start < end ? hash > start && hash <= end : hash > start || hash <= end;
}

/** A hash as 16 lower-case hex digits, for logs and messages. */
export function hashToHex(hash: bigint): string {
  return hash.toString(16).padStart(16, '0');
}
