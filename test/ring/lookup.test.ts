/** Ring lookup agrees with a linear-scan reference, including the edges of the hash space and of ranges. */
import t from 'tap';
import { MAX_HASH } from '../../ring/hash-space.js';
import { RingHasher } from '../../ring/hasher.js';
import { Ring } from '../../ring/ring.js';
import { encodeTokens } from '../../ring/ring-document.js';
import { referenceOwner, ringOfGroups } from './reference.js';
import { SeededRandom } from './seeded-random.js';

const hasher = await RingHasher.create();

/** A ring straight from tokens: { groupId: tokens }. */
function ringFromTokens(tokensByGroup: Record<string, bigint[]>): Ring {
  const groups = Object.fromEntries(Object.entries(tokensByGroup).map(([id, tokens]) => [id, { state: 'active', tokens: encodeTokens([...tokens].sort((x, y) => (x < y ? -1 : 1))) }]));
  return Ring.fromJSON({ version: 1, vnodesPerGroup: 4, groups }, hasher);
}

/** Random hashes plus every token, its neighbours, 0 and 2^64-1. */
function probeHashes(ring: Ring, random: SeededRandom, randomCount: number): bigint[] {
  const probes = [0n, 1n, MAX_HASH, MAX_HASH - 1n];
  for (const { token } of ring.entries()) probes.push(token, (token + 1n) & MAX_HASH, (token - 1n) & MAX_HASH);
  for (let i = 0; i < randomCount; i += 1) probes.push(random.nextHash());
  return probes;
}

const shapes: Array<[string, () => Ring]> = [
  ['one group', () => ringOfGroups(Ring.empty(hasher), 1)],
  ['two groups', () => ringOfGroups(Ring.empty(hasher), 2)],
  ['16 groups x 128 tokens', () => ringOfGroups(Ring.empty(hasher), 16)],
  ['5 groups with 8 tokens each', () => ringOfGroups(Ring.empty(hasher, { vnodesPerGroup: 8 }), 5)],
  ['10 groups after removing two', () => ringOfGroups(Ring.empty(hasher), 12).withGroupRemoved('g3').withGroupRemoved('g11')],
  ['tokens at 0 and 2^64-1', () => ringFromTokens({ a: [0n, 1n << 63n], b: [MAX_HASH, 5n] })],
  ['one token', () => ringFromTokens({ only: [12345n] })],
  ['tokens whose halves share the high 32 bits', () => ringFromTokens({ a: [0x1234_5678_0000_0010n, 0x1234_5678_ffff_fff0n], b: [0x1234_5678_8000_0000n, 0x1234_5679_0000_0000n] })],
];

for (const [name, build] of shapes) {
  t.test(`${name}: ownerOfHash agrees with a linear scan on random hashes, every token and its neighbours, 0 and 2^64-1`, (t) => {
    const ring = build();
    const entries = ring.entries();
    const mismatches: string[] = [];
    for (const hash of probeHashes(ring, new SeededRandom(99), 5_000)) {
      const expected = referenceOwner(entries, hash);
      const actual = ring.ownerOfHash(hash);
      if (actual !== expected && mismatches.length < 5) mismatches.push(`hash ${hash.toString(16)}: ${actual}, expected ${expected}`);
    }
    t.same(mismatches, []);
    t.end();
  });
}

t.test('a hash equal to a token belongs to that token; one above it belongs to the next token', (t) => {
  const ring = ringFromTokens({ a: [100n], b: [200n], c: [300n] });
  t.equal(ring.ownerOfHash(100n), 'a');
  t.equal(ring.ownerOfHash(101n), 'b');
  t.equal(ring.ownerOfHash(300n), 'c');
  t.equal(ring.ownerOfHash(301n), 'a', 'above the last token wraps to the first');
  t.equal(ring.ownerOfHash(0n), 'a');
  t.equal(ring.ownerOfHash(MAX_HASH), 'a');
  t.end();
});

t.test('ownerOf hashes the placement key with xxh64 seed 0', (t) => {
  t.equal(hasher.hash('hello'), 0x26c7827d889f6da3n, 'xxh64("hello") check value');
  t.equal(hasher.hashBytes(new TextEncoder().encode('/a/é')), hasher.hash('/a/é'), 'bytes and string hash alike');
  const ring = ringOfGroups(Ring.empty(hasher), 8);
  const random = new SeededRandom(5);
  const entries = ring.entries();
  const wrong: string[] = [];
  for (let i = 0; i < 2000; i += 1) {
    const key = `/dir-${random.nextUint32()}`;
    if (ring.ownerOf(key) !== referenceOwner(entries, hasher.hash(key))) wrong.push(key);
  }
  t.same(wrong, []);
  t.end();
});

t.test('ownerOfPath places a node by its parent directory', (t) => {
  const ring = ringOfGroups(Ring.empty(hasher), 8);
  t.equal(ring.ownerOfPath('/locks/job-7/lock-0000000012'), ring.ownerOf('/locks/job-7'));
  t.equal(ring.ownerOfPath('/locks'), ring.ownerOf('/'));
  t.equal(ring.ownerOfPath('/'), ring.ownerOf('/'), 'the root is placed with its children');
  t.throws(() => ring.ownerOfPath('/a/'), { code: 'BAD_PATH' });
  t.end();
});

t.test('looking up in a ring without groups fails with UNAVAILABLE', (t) => {
  t.throws(() => Ring.empty(hasher).ownerOfHash(1n), { code: 'UNAVAILABLE', message: /no groups/ });
  t.end();
});
