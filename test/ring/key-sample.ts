/** Sampled placement keys, hashed once with the ring's hasher and reused by every check. */
import type { RingHasher } from '../../ring/hasher.js';
import type { Ring } from '../../ring/ring.js';
import { SeededRandom } from './seeded-random.js';

/** xxh64 hashes of `count` random directory-like keys (`/app-<n>/dir-<n>`), from a seed. */
export function sampleKeyHashes(hasher: RingHasher, count: number, seed: number): BigUint64Array {
  const random = new SeededRandom(seed);
  const hashes = new BigUint64Array(count);
  for (let i = 0; i < count; i += 1) {
    hashes[i] = hasher.hash(`/app-${random.nextUint32().toString(36)}/dir-${random.nextUint32().toString(36)}`);
  }
  return hashes;
}

/** The owner of every hash, index for index. */
export function ownersOf(ring: Ring, hashes: BigUint64Array): string[] {
  const owners = new Array<string>(hashes.length);
  for (let i = 0; i < hashes.length; i += 1) owners[i] = ring.ownerOfHash(hashes[i]!);
  return owners;
}

/** How many of the keys each group owns. */
export function countByOwner(owners: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const owner of owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return counts;
}
