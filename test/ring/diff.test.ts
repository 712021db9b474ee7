/** diffRings lists exactly the ranges whose owner changed, merged, and agrees with per-key owner comparison. */
import t from 'tap';
import { diffRings, type RingMove } from '../../ring/diff.js';
import { HASH_SPACE_SIZE, MAX_HASH, rangeContains, rangeWidth } from '../../ring/hash-space.js';
import { RingHasher } from '../../ring/hasher.js';
import { Ring } from '../../ring/ring.js';
import { encodeTokens } from '../../ring/ring-document.js';
import { sampleKeyHashes } from './key-sample.js';
import { ringOfGroups } from './reference.js';
import { SeededRandom } from './seeded-random.js';

const hasher = await RingHasher.create();
const keyHashes = sampleKeyHashes(hasher, 50_000, 31);

function ringFromTokens(tokensByGroup: Record<string, bigint[]>): Ring {
  const groups = Object.fromEntries(Object.entries(tokensByGroup).map(([id, tokens]) => [id, { state: 'active', tokens: encodeTokens([...tokens].sort((x, y) => (x < y ? -1 : 1))) }]));
  return Ring.fromJSON({ version: 1, vnodesPerGroup: 4, groups }, hasher);
}

function randomRing(random: SeededRandom, groupCount: number, tokensPerGroup: number): Ring {
  const tokens = new Set<bigint>();
  while (tokens.size < groupCount * tokensPerGroup) tokens.add(random.nextHash());
  const all = [...tokens];
  return ringFromTokens(Object.fromEntries(Array.from({ length: groupCount }, (_, g) => [`r${g}`, all.slice(g * tokensPerGroup, (g + 1) * tokensPerGroup).sort((x, y) => (x < y ? -1 : 1))])));
}

/** Every probe: owner changed <=> covered by exactly one move, whose from/to are the old/new owners. */
function disagreements(a: Ring, b: Ring, moves: RingMove[], probes: Iterable<bigint>): string[] {
  const found: string[] = [];
  for (const hash of probes) {
    const covering = moves.filter((move) => rangeContains(move.start, move.end, hash));
    const from = a.ownerOfHash(hash);
    const to = b.ownerOfHash(hash);
    const ok = from === to ? covering.length === 0 : covering.length === 1 && covering[0]!.from === from && covering[0]!.to === to;
    if (!ok && found.length < 5) found.push(`hash ${hash.toString(16)}: ${from} -> ${to}, moves ${JSON.stringify(covering.map((m) => [m.from, m.to]))}`);
  }
  return found;
}

function edgeProbes(a: Ring, b: Ring): bigint[] {
  const probes = [0n, MAX_HASH];
  for (const { token } of [...a.entries(), ...b.entries()]) probes.push(token, (token + 1n) & MAX_HASH, (token - 1n) & MAX_HASH);
  return probes;
}

const pairs: Array<[string, () => [Ring, Ring]]> = [
  ['adding a 9th group', () => { const a = ringOfGroups(Ring.empty(hasher), 8); return [a, a.withGroupAdded('g9')]; }],
  ['removing a group of 8', () => { const a = ringOfGroups(Ring.empty(hasher), 8); return [a, a.withGroupRemoved('g4')]; }],
  ['two unrelated random rings', () => { const random = new SeededRandom(3); return [randomRing(random, 5, 20), randomRing(random, 4, 30)]; }],
  ['rings with tokens at 0 and 2^64-1', () => [ringFromTokens({ a: [0n, 1n << 62n], b: [MAX_HASH] }), ringFromTokens({ b: [0n, 1n << 62n], a: [MAX_HASH] })]],
];

for (const [name, build] of pairs) {
  t.test(`${name}: the moves agree with comparing owners key by key`, (t) => {
    const [a, b] = build();
    const moves = diffRings(a, b);
    t.same(disagreements(a, b, moves, keyHashes), [], 'sampled keys');
    t.same(disagreements(a, b, moves, edgeProbes(a, b)), [], 'tokens, their neighbours, 0 and 2^64-1');
    t.end();
  });

  t.test(`${name}: adjacent moves with the same groups are merged`, (t) => {
    const [a, b] = build();
    const moves = diffRings(a, b);
    t.ok(moves.length > 0, 'something moved');
    for (let i = 0; i < moves.length; i += 1) {
      const next = moves[(i + 1) % moves.length]!;
      if (moves.length > 1 && moves[i]!.end === next.start && moves[i]!.from === next.from && moves[i]!.to === next.to) {
        t.fail(`moves ${i} and ${(i + 1) % moves.length} touch and have the same groups`);
      }
    }
    t.end();
  });
}

t.test('the moves of adding a group add up to exactly the new group\'s share', (t) => {
  const a = ringOfGroups(Ring.empty(hasher), 5);
  const b = a.withGroupAdded('g6');
  const moved = diffRings(a, b).reduce((sum, move) => sum + rangeWidth(move.start, move.end), 0n);
  t.equal(moved, b.shareOf('g6'));
  t.end();
});

t.test('replacing the only group moves the whole space as one move with start === end', (t) => {
  const a = ringFromTokens({ a: [10n, 20n] });
  const b = ringFromTokens({ b: [30n] });
  const moves = diffRings(a, b);
  t.equal(moves.length, 1);
  t.equal(moves[0]!.start, moves[0]!.end);
  t.equal(rangeWidth(moves[0]!.start, moves[0]!.end), HASH_SPACE_SIZE);
  t.match(moves[0], { from: 'a', to: 'b' });
  t.end();
});

t.test('a move across 2^64-1 -> 0 is one wrapping move', (t) => {
  const a = ringFromTokens({ a: [100n], b: [200n], c: [MAX_HASH - 100n] });
  const b = ringFromTokens({ a: [100n], b: [200n], c: [MAX_HASH - 100n, 50n] });
  // c's new token 50 takes (MAX-100, 50] from a, across the wrap.
  t.same(diffRings(a, b), [{ start: MAX_HASH - 100n, end: 50n, from: 'a', to: 'c' }]);
  t.end();
});

t.test('identical rings have no moves; an empty ring is refused', (t) => {
  const a = ringOfGroups(Ring.empty(hasher), 3);
  t.same(diffRings(a, Ring.fromJSON(a.toJSON(), hasher)), []);
  t.throws(() => diffRings(Ring.empty(hasher), a), { code: 'BAD_ARGUMENTS' });
  t.end();
});
