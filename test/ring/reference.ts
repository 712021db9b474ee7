/**
 * Independent, deliberately naive versions of what the ring computes, to check it against:
 * a linear-scan owner lookup and exact shares from token widths.
 */
import type { TokenEntry } from '../../ring/allocation.js';
import type { Ring } from '../../ring/ring.js';

const SPACE = 1n << 64n;

/** The owner of the smallest token >= hash, or of the smallest token when none is. Linear scan. */
export function referenceOwner(entries: readonly TokenEntry[], hash: bigint): string {
  let best: TokenEntry | undefined;
  let lowest: TokenEntry | undefined;
  for (const entry of entries) {
    if (lowest === undefined || entry.token < lowest.token) lowest = entry;
    if (entry.token >= hash && (best === undefined || entry.token < best.token)) best = entry;
  }
  return (best ?? lowest)!.owner;
}

/** Exact number of hashes each group owns, from the widths of its ranges (previous token, token]. */
export function exactShares(ring: Ring): Map<string, bigint> {
  const entries = ring.entries();
  const shares = new Map<string, bigint>();
  for (let i = 0; i < entries.length; i += 1) {
    const previous = i === 0 ? entries[entries.length - 1]!.token - SPACE : entries[i - 1]!.token;
    const width = entries.length === 1 ? SPACE : entries[i]!.token - previous;
    shares.set(entries[i]!.owner, (shares.get(entries[i]!.owner) ?? 0n) + width);
  }
  return shares;
}

/** Largest share over mean share, from exact widths. */
export function exactMaxOverMean(ring: Ring): number {
  const shares = [...exactShares(ring).values()];
  const max = shares.reduce((a, b) => (a > b ? a : b));
  // max / (2^64 / n), computed on bigints scaled by 1e9 to keep precision.
  return Number((max * BigInt(shares.length) * 1_000_000_000n) / SPACE) / 1e9;
}

/** A ring of groups g1..gN built by adding them one by one. */
export function ringOfGroups(empty: Ring, count: number): Ring {
  let ring = empty;
  for (let i = 1; i <= count; i += 1) ring = ring.withGroupAdded(`g${i}`);
  return ring;
}
