import t from 'tap';
import { checkLinearizable, isPending } from './checker.js';
import { kvModel } from './kv-model.js';
import { mutateKvHistory, randomKvHistory, type KvMutation } from './random-kv-history.js';
import { SeededRandom } from './seeded-random.js';

// LINCHECK_SEED replays (or explores from) another base seed; every failure names its own seed.
const BASE_SEED = Number(process.env.LINCHECK_SEED ?? 20261130);
const HISTORIES = 150;

function shapeFor(random: SeededRandom) {
  return {
    operations: 20 + random.int(130),
    keys: 1 + random.int(3),
    concurrency: 2 + random.int(5),
    pendingRate: 0.05,
  };
}

t.comment(`base seed ${BASE_SEED}`);

t.test('histories generated from a sequential run with random overlaps are judged linearizable', async (t) => {
  const failures: string[] = [];
  for (let i = 0; i < HISTORIES; i++) {
    const seed = BASE_SEED + i;
    const random = new SeededRandom(seed);
    const history = randomKvHistory(random, shapeFor(random));
    const result = checkLinearizable(kvModel, history, { timeout_ms: 20_000 });
    if (result.ok !== true) failures.push(`seed ${seed}: ${JSON.stringify(result)}`);
  }
  t.same(failures, [], 'every generated history judged ok');
});

t.test('generated histories do contain overlapping and pending operations', async (t) => {
  const random = new SeededRandom(BASE_SEED);
  const history = randomKvHistory(random, { operations: 300, keys: 2, concurrency: 5, pendingRate: 0.05 });
  const completed = history.filter((op) => !isPending(op));
  const overlapping = completed.filter((a) => completed.some((b) => a !== b && a.call < b.return! && b.call < a.return!));
  t.ok(overlapping.length > completed.length / 2, `${overlapping.length} of ${completed.length} overlap another`);
  t.ok(history.length - completed.length > 0, 'some operations are pending');
});

t.test('histories with one read changed to an impossible value are judged not linearizable', async (t) => {
  const failures: string[] = [];
  const seen = new Set<KvMutation>();
  for (let i = 0; i < HISTORIES; i++) {
    const seed = BASE_SEED + i;
    const random = new SeededRandom(seed);
    const mutated = mutateKvHistory(random, randomKvHistory(random, shapeFor(random)));
    if (mutated === undefined) continue;
    seen.add(mutated.mutation);
    const result = checkLinearizable(kvModel, mutated.history, { timeout_ms: 20_000 });
    if (result.ok !== false) {
      failures.push(`seed ${seed} (${mutated.mutation} at op ${mutated.index}): ${JSON.stringify(result)}`);
    }
  }
  t.same(failures, [], 'every mutated history judged not ok');
  t.same([...seen].sort(), ['future', 'never-written', 'stale'], 'every kind of mutation was tried');
});

t.test('a 2000-operation history over 10 keys with 5 concurrent clients is checked within the budget', async (t) => {
  const random = new SeededRandom(BASE_SEED);
  const history = randomKvHistory(random, { operations: 2000, keys: 10, concurrency: 5 });
  const started_ms = Date.now();
  const result = checkLinearizable(kvModel, history, { timeout_ms: 60_000 });
  t.comment(`checked ${history.length} operations in ${Date.now() - started_ms} ms`);
  t.same(result, { ok: true });
});
