/** The Ring value: immutable, versioned, validated group ids, deterministic allocation. */
import t from 'tap';
import { RingHasher } from '../../ring/hasher.js';
import { HASH_SPACE_SIZE } from '../../ring/hash-space.js';
import { Ring } from '../../ring/ring.js';
import { ringOfGroups } from './reference.js';

const hasher = await RingHasher.create();

t.test('every change returns a new ring with version + 1 and leaves the old one as it was', (t) => {
  const empty = Ring.empty(hasher);
  const one = empty.withGroupAdded('g1');
  const two = one.withGroupAdded('g2', 'joining');
  const active = two.withGroupState('g2', 'active');
  const back = active.withGroupRemoved('g2');
  t.same([empty.version, one.version, two.version, active.version, back.version], [0, 1, 2, 3, 4]);
  t.same(one.groupIds(), ['g1'], 'the older ring still has one group');
  t.equal(two.stateOf('g2'), 'joining');
  t.equal(active.stateOf('g2'), 'active');
  t.same(active.entries(), two.entries(), 'a state change moves no token');
  t.end();
});

t.test('the first group gets vnodesPerGroup evenly spaced tokens', (t) => {
  const ring = Ring.empty(hasher, { vnodesPerGroup: 128 }).withGroupAdded('g1');
  const tokens = ring.tokensOf('g1');
  t.equal(tokens.length, 128);
  const gaps = new Set(tokens.slice(1).map((token, i) => token - tokens[i]!));
  t.same([...gaps], [HASH_SPACE_SIZE / 128n], 'equal gaps of 2^64/128');
  t.equal(ring.shareOf('g1'), HASH_SPACE_SIZE);
  t.end();
});

t.test('a joining group gets vnodesPerGroup tokens and exactly its even share', (t) => {
  const ring = ringOfGroups(Ring.empty(hasher), 7);
  t.same(ring.groups().map((group) => group.tokenCount), [128, 128, 128, 128, 128, 128, 128]);
  const shares = ring.groupIds().map((id) => ring.shareOf(id));
  t.equal(shares.reduce((a, b) => a + b), HASH_SPACE_SIZE, 'shares cover the space');
  t.ok(shares.every((share) => share === HASH_SPACE_SIZE / 7n || share === HASH_SPACE_SIZE / 7n + 1n), 'each share is 2^64/7, rounded');
  t.end();
});

t.test('allocation is deterministic: the same changes give the same tokens', (t) => {
  const a = ringOfGroups(Ring.empty(hasher), 6).withGroupRemoved('g2').withGroupAdded('g7');
  const b = ringOfGroups(Ring.empty(hasher), 6).withGroupRemoved('g2').withGroupAdded('g7');
  t.same(a.toJSON(), b.toJSON());
  t.end();
});

t.test('removing the last added group restores the ring before it was added', (t) => {
  const before = ringOfGroups(Ring.empty(hasher), 9);
  const after = before.withGroupAdded('g10').withGroupRemoved('g10');
  t.same(after.entries(), before.entries());
  t.end();
});

t.test('removing down to one group gives it evenly spaced tokens; removing it empties the ring', (t) => {
  const one = ringOfGroups(Ring.empty(hasher), 3).withGroupRemoved('g1').withGroupRemoved('g3');
  t.same(one.tokensOf('g2'), Ring.empty(hasher).withGroupAdded('g2').tokensOf('g2'));
  const none = one.withGroupRemoved('g2');
  t.equal(none.groupCount, 0);
  t.equal(none.tokenCount, 0);
  t.end();
});

t.test('group ids are validated', (t) => {
  const ring = Ring.empty(hasher);
  for (const bad of ['', 'G1', '-g', 'g 1', 'g/1', 'a'.repeat(64), 'g.1']) {
    t.throws(() => ring.withGroupAdded(bad), { code: 'BAD_ARGUMENTS', message: /invalid group id/ }, `rejects ${JSON.stringify(bad)}`);
  }
  for (const good of ['g1', '0', 'shard_7', 'eu-west-1', 'a'.repeat(63)]) {
    t.equal(ring.withGroupAdded(good).groupIds()[0], good, `accepts ${good}`);
  }
  t.end();
});

t.test('adding a group twice, or changing or removing an unknown group, fails with BAD_ARGUMENTS', (t) => {
  const ring = ringOfGroups(Ring.empty(hasher), 2);
  t.throws(() => ring.withGroupAdded('g1'), { code: 'BAD_ARGUMENTS', message: /already in the ring/ });
  t.throws(() => ring.withGroupRemoved('g9'), { code: 'BAD_ARGUMENTS', message: /not in the ring/ });
  t.throws(() => ring.withGroupState('g9', 'leaving'), { code: 'BAD_ARGUMENTS', message: /not in the ring/ });
  t.throws(() => ring.withGroupState('g1', 'gone' as never), { code: 'BAD_ARGUMENTS', message: /state must be/ });
  t.end();
});

t.test('vnodesPerGroup and version of an empty ring are validated', (t) => {
  t.throws(() => Ring.empty(hasher, { vnodesPerGroup: 0 }), { code: 'BAD_ARGUMENTS' });
  t.throws(() => Ring.empty(hasher, { vnodesPerGroup: 1.5 }), { code: 'BAD_ARGUMENTS' });
  t.throws(() => Ring.empty(hasher, { version: -1 }), { code: 'BAD_ARGUMENTS' });
  t.end();
});
