import t from 'tap';
import { applyKv, kv, kvModel, type KvState } from './kv-model.js';
import { done, pending } from './kv-history-fixtures.js';

const { put, get, cas, ok, badVersion, value } = kv;

function run(inputs: ReturnType<typeof put>[]): KvState {
  return inputs.reduce((state, input) => applyKv(state, input).next, kvModel.init());
}

t.test('a key never written reads undefined at version 0', async (t) => {
  t.same(applyKv(kvModel.init(), get('x')).output, value(undefined, 0));
});

t.test('every put adds one to the version', async (t) => {
  const state = run([put('x', 'a'), put('x', 'b')]);
  t.same(applyKv(state, get('x')).output, value('b', 2));
  t.same(applyKv(state, put('x', 'c')).output, ok(3));
});

t.test('cas writes only at the expected version and otherwise answers BAD_VERSION', async (t) => {
  const state = run([put('x', 'a')]);
  t.same(applyKv(state, cas('x', 0, 'b')), { output: badVersion(), next: state });
  const written = applyKv(state, cas('x', 1, 'b'));
  t.same(written.output, ok(2));
  t.same(applyKv(written.next, get('x')).output, value('b', 2));
});

t.test('an output without a version is checked on its value alone', async (t) => {
  const state = run([put('x', 'a')]);
  t.equal(kvModel.step(state, get('x'), value('a')).ok, true);
  t.equal(kvModel.step(state, get('x'), value('b')).ok, false);
  t.equal(kvModel.step(state, put('x', 'b'), ok()).ok, true);
});

t.test('an unknown output (pending operation) is accepted and still applied', async (t) => {
  const step = kvModel.step(run([put('x', 'a')]), cas('x', 1, 'b'), undefined);
  t.equal(step.ok, true);
  t.same(applyKv(step.next, get('x')).output, value('b', 2));
});

t.test('a cas reported ok where it must fail, or failed where it must succeed, is refused', async (t) => {
  const state = run([put('x', 'a')]);
  t.equal(kvModel.step(state, cas('x', 0, 'b'), ok()).ok, false);
  t.equal(kvModel.step(state, cas('x', 1, 'b'), badVersion()).ok, false);
});

t.test('steps never change the state they are given', async (t) => {
  const state = run([put('x', 'a')]);
  const before = kvModel.hash(state);
  applyKv(state, put('x', 'b'));
  applyKv(state, put('y', 'c'));
  t.equal(kvModel.hash(state), before);
});

t.test('equal states hash equally whatever order keys were first written in', async (t) => {
  const a = run([put('x', '1'), put('y', '2')]);
  const b = run([put('y', '2'), put('x', '1')]);
  t.equal(kvModel.hash(a), kvModel.hash(b));
  t.ok(kvModel.equal(a, b));
  t.notOk(kvModel.equal(a, run([put('x', '1'), put('y', '3')])));
});

t.test('a history is partitioned by key, in key order', async (t) => {
  const history = [done(1, put('y', 'a'), 0, 1, ok()), done(1, get('x'), 2, 3, value(undefined)), pending(2, put('y', 'b'), 4)];
  const partitions = kvModel.partition!(history);
  t.same(partitions.map((ops) => ops.map((op) => op.input.key)), [['x'], ['y', 'y']]);
});

t.test('operations are described with their inputs and outputs', async (t) => {
  t.equal(kvModel.describe(done(1, cas('x', 3, 'v'), 0, 1, badVersion())), 'cas(x, version 3, "v") -> BAD_VERSION');
  t.equal(kvModel.describe(done(1, get('x'), 0, 1, value(undefined, 0))), 'get(x) -> undefined (version 0)');
  t.equal(kvModel.describe(pending(1, put('x', 'v'), 0)), 'put(x, "v") -> ? (pending)');
});
