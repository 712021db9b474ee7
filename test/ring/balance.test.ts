/**
 * Balance and movement bounds of the token allocation (issue 2): with 128 tokens per group and
 * N = 2, 3, 5, 8, 16, 32 groups, max/mean share <= 1.05; adding a group moves at most
 * 1.1 x 1/(N+1) of the keys, removing one at most 1.1 x its share; keys move only to the new
 * group / away from the removed group. Measured exactly on range widths and on 1 000 000
 * sampled keys.
 *
 * Sample bounds: a group with exact share p owns Binomial(n, p) of n sampled keys, standard
 * deviation sqrt(p(1-p)/n) of the fraction. We allow 5 standard deviations (for 33 groups the
 * chance that any exceeds it by luck is below 1e-5, and the seed is fixed): the sampled
 * fraction of every group must be within 5 sigma of its exact share, sampled max/mean within
 * 1.05 + 5 sigma/mean, sampled moved fraction within 1.1 x optimum + 5 sigma.
 */
import t from 'tap';
import { diffRings } from '../../ring/diff.js';
import { HASH_SPACE_SIZE, rangeWidth } from '../../ring/hash-space.js';
import { RingHasher } from '../../ring/hasher.js';
import { Ring } from '../../ring/ring.js';
import { countByOwner, ownersOf, sampleKeyHashes } from './key-sample.js';
import { exactMaxOverMean, exactShares } from './reference.js';
import { SeededRandom } from './seeded-random.js';

const SAMPLE_SIZE = 1_000_000;
const SIZES = [2, 3, 5, 8, 16, 32];
const MAX_OVER_MEAN = 1.05;
const MOVE_FACTOR = 1.1;
const SIGMAS = 5;
const SPACE = Number(HASH_SPACE_SIZE);

const hasher = await RingHasher.create();
const hashes = sampleKeyHashes(hasher, SAMPLE_SIZE, 20261123);

// Rings g1..gK for K = 1..33, built once by adding groups in order.
const rings = new Map<number, Ring>();
let growing = Ring.empty(hasher);
for (let count = 1; count <= Math.max(...SIZES) + 1; count += 1) {
  growing = growing.withGroupAdded(`g${count}`);
  rings.set(count, growing);
}
const ringOf = (count: number): Ring => rings.get(count)!;

function sigmaOfFraction(p: number): number {
  return Math.sqrt((p * (1 - p)) / SAMPLE_SIZE);
}

function exactMovedFraction(before: Ring, after: Ring): number {
  return diffRings(before, after).reduce((sum, move) => sum + Number(rangeWidth(move.start, move.end)), 0) / SPACE;
}

for (const size of SIZES) {
  t.test(`${size} groups: every group's share is within ${MAX_OVER_MEAN} x the mean, exactly and on 1M sampled keys`, (t) => {
    const ring = ringOf(size);
    const exact = exactMaxOverMean(ring);
    t.ok(exact <= MAX_OVER_MEAN, `exact max/mean ${exact.toFixed(6)} <= ${MAX_OVER_MEAN}`);

    const counts = countByOwner(ownersOf(ring, hashes));
    const shares = exactShares(ring);
    const mean = SAMPLE_SIZE / size;
    const worst = Math.max(...ring.groupIds().map((id) => counts.get(id) ?? 0));
    const sampledBound = MAX_OVER_MEAN + (SIGMAS * sigmaOfFraction(1 / size) * SAMPLE_SIZE) / mean;
    t.ok(worst / mean <= sampledBound, `sampled max/mean ${(worst / mean).toFixed(4)} <= ${sampledBound.toFixed(4)}`);
    for (const id of ring.groupIds()) {
      const p = Number(shares.get(id)!) / SPACE;
      const sampled = (counts.get(id) ?? 0) / SAMPLE_SIZE;
      if (Math.abs(sampled - p) > SIGMAS * sigmaOfFraction(p)) {
        t.fail(`group ${id}: sampled share ${sampled} is not within ${SIGMAS} sigma of its exact share ${p}`);
      }
    }
    t.end();
  });

  t.test(`${size} -> ${size + 1} groups: adding a group moves at most ${MOVE_FACTOR} x 1/${size + 1} of the keys, only to the new group`, (t) => {
    const before = ringOf(size);
    const after = ringOf(size + 1);
    const added = `g${size + 1}`;
    const optimum = 1 / (size + 1);
    const exact = exactMovedFraction(before, after);
    t.ok(exact <= MOVE_FACTOR * optimum, `exact moved ${exact.toFixed(6)} <= ${MOVE_FACTOR} x ${optimum.toFixed(6)}`);
    t.ok(exactMaxOverMean(after) <= MAX_OVER_MEAN, 'balance holds after the add');

    const ownersBefore = ownersOf(before, hashes);
    const ownersAfter = ownersOf(after, hashes);
    let moved = 0;
    let movedElsewhere = 0;
    for (let i = 0; i < SAMPLE_SIZE; i += 1) {
      if (ownersBefore[i] === ownersAfter[i]) continue;
      moved += 1;
      if (ownersAfter[i] !== added) movedElsewhere += 1;
    }
    t.equal(movedElsewhere, 0, 'every key that moved went to the new group');
    const sampledBound = MOVE_FACTOR * optimum + SIGMAS * sigmaOfFraction(optimum);
    t.ok(moved / SAMPLE_SIZE <= sampledBound, `sampled moved ${(moved / SAMPLE_SIZE).toFixed(6)} <= ${sampledBound.toFixed(6)}`);
    t.end();
  });

  t.test(`${size} -> ${size - 1} groups: removing a group moves at most ${MOVE_FACTOR} x its share, only its keys, and balance holds`, (t) => {
    const before = ringOf(size);
    // g1 has been a donor to every later group: the most cut-up token layout to hand over.
    const removed = 'g1';
    const after = before.withGroupRemoved(removed);
    const optimum = Number(exactShares(before).get(removed)!) / SPACE;
    const exact = exactMovedFraction(before, after);
    t.ok(exact <= MOVE_FACTOR * optimum, `exact moved ${exact.toFixed(6)} <= ${MOVE_FACTOR} x ${optimum.toFixed(6)}`);
    t.ok(exactMaxOverMean(after) <= MAX_OVER_MEAN, `exact max/mean after removal ${exactMaxOverMean(after).toFixed(6)}`);

    const ownersBefore = ownersOf(before, hashes);
    const ownersAfter = ownersOf(after, hashes);
    let moved = 0;
    let movedFromOthers = 0;
    for (let i = 0; i < SAMPLE_SIZE; i += 1) {
      if (ownersBefore[i] === ownersAfter[i]) continue;
      moved += 1;
      if (ownersBefore[i] !== removed) movedFromOthers += 1;
    }
    t.equal(movedFromOthers, 0, 'only keys of the removed group moved');
    t.equal(moved, ownersBefore.filter((owner) => owner === removed).length, 'every key of the removed group moved');
    const counts = countByOwner(ownersAfter);
    const mean = SAMPLE_SIZE / (size - 1);
    const worst = Math.max(...after.groupIds().map((id) => counts.get(id) ?? 0));
    const sampledBound = MAX_OVER_MEAN + (SIGMAS * sigmaOfFraction(1 / (size - 1)) * SAMPLE_SIZE) / mean;
    t.ok(worst / mean <= sampledBound, `sampled max/mean after removal ${(worst / mean).toFixed(4)} <= ${sampledBound.toFixed(4)}`);
    t.end();
  });
}

t.test('a seeded sequence of 60 adds and removes between 4 and 32 groups keeps every bound at every step', (t) => {
  const random = new SeededRandom(7);
  let ring = ringOf(16);
  let nextId = 100;
  const violations: string[] = [];
  for (let step = 0; step < 60; step += 1) {
    const grow = ring.groupCount <= 4 || (ring.groupCount < 32 && random.below(2) === 0);
    const ids = ring.groupIds();
    const removed = grow ? undefined : ids[random.below(ids.length)]!;
    const after = removed === undefined ? ring.withGroupAdded(`h${nextId++}`) : ring.withGroupRemoved(removed);
    const optimum = removed === undefined ? 1 / after.groupCount : Number(ring.shareOf(removed)) / SPACE;
    const moved = exactMovedFraction(ring, after);
    const balance = exactMaxOverMean(after);
    if (moved > MOVE_FACTOR * optimum || balance > MAX_OVER_MEAN) {
      violations.push(`step ${step} (${removed === undefined ? 'add' : `remove ${removed}`}, ${after.groupCount} groups): moved ${moved} vs optimum ${optimum}, max/mean ${balance}`);
    }
    ring = after;
  }
  t.same(violations, [], 'no step breaks the balance or movement bound');
  t.end();
});
