import t from 'tap';
import { checkLinearizable, type Model } from './checker.js';
import { kv, kvModel } from './kv-model.js';
import { done, pending } from './kv-history-fixtures.js';

const { put, get, cas, ok, badVersion, value } = kv;

t.test('an empty history is linearizable', async (t) => {
  t.same(checkLinearizable(kvModel, []), { ok: true });
});

t.test('overlapping writes may take effect in either order', async (t) => {
  const writes = [done(1, put('x', 'a'), 0, 10, ok()), done(2, put('x', 'b'), 1, 11, ok())];
  t.same(checkLinearizable(kvModel, [...writes, done(3, get('x'), 12, 13, value('a'))]), { ok: true });
  t.same(checkLinearizable(kvModel, [...writes, done(3, get('x'), 12, 13, value('b'))]), { ok: true });
});

t.test('a read concurrent with a write sees the old value, then the new one', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 1, ok()),
    done(2, put('x', 'b'), 2, 10, ok()),
    done(3, get('x'), 3, 4, value('a')),
    done(4, get('x'), 5, 6, value('b')),
    done(3, get('x'), 7, 8, value('b')),
  ];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('three concurrent writes with reads that fix only part of their order', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 20, ok()),
    done(2, put('x', 'b'), 0, 20, ok()),
    done(3, put('x', 'c'), 0, 20, ok()),
    done(4, get('x'), 1, 2, value('b')),
    done(4, get('x'), 3, 4, value('c')),
    done(5, get('x'), 5, 21, value('c')),
  ];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('intervals that only touch count as concurrent', async (t) => {
  const history = [done(1, put('x', 'a'), 0, 5, ok()), done(2, get('x'), 5, 6, value(undefined))];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('a pending write that took effect explains a later read', async (t) => {
  const history = [pending(1, put('x', 'a'), 0), done(2, get('x'), 5, 6, value('a', 1))];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('a pending write that never took effect may be left out', async (t) => {
  const history = [
    pending(1, put('x', 'a'), 0),
    done(2, get('x'), 5, 6, value(undefined, 0)),
    done(2, get('x'), 7, 8, value(undefined, 0)),
  ];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('a pending write may take effect long after its call', async (t) => {
  const history = [
    pending(1, put('x', 'a'), 0),
    done(2, get('x'), 5, 6, value(undefined)),
    done(2, get('x'), 7, 8, value('a')),
  ];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('two pending writes may both take effect back to back', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 1, ok(1)),
    pending(2, put('x', 'b'), 2),
    pending(3, put('x', 'c'), 3),
    done(1, get('x'), 10, 11, value('c', 3)),
  ];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('a pending read constrains nothing', async (t) => {
  const history = [
    pending(1, get('x'), 0),
    done(2, put('x', 'a'), 1, 2, ok()),
    done(3, get('x'), 3, 4, value('a')),
  ];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('of two concurrent cas with the same expected version, one wins and one gets BAD_VERSION', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 1, ok(1)),
    done(2, cas('x', 1, 'b'), 2, 5, ok(2)),
    done(3, cas('x', 1, 'c'), 3, 6, badVersion()),
    done(1, get('x'), 7, 8, value('b', 2)),
  ];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('operations on different keys are checked independently', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 4, ok()),
    done(2, put('y', 'b'), 1, 2, ok()),
    done(2, get('x'), 3, 5, value(undefined)),
    done(1, get('y'), 5, 6, value('b')),
  ];
  t.same(checkLinearizable(kvModel, history), { ok: true });
});

t.test('a stale read after a completed write is not linearizable', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 1, ok()),
    done(1, put('x', 'b'), 2, 3, ok()),
    done(2, get('x'), 4, 5, value('a')),
  ];
  const result = checkLinearizable(kvModel, history);
  t.equal(result.ok, false);
});

t.test('a read of a value never written is not linearizable', async (t) => {
  const history = [done(1, put('x', 'a'), 0, 1, ok()), done(2, get('x'), 2, 3, value('z'))];
  t.equal(checkLinearizable(kvModel, history).ok, false);
});

t.test('two readers that see two writes in opposite orders are not linearizable', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 100, ok()),
    done(2, put('x', 'b'), 0, 100, ok()),
    done(3, get('x'), 10, 11, value('a')),
    done(3, get('x'), 12, 13, value('b')),
    done(4, get('x'), 10, 11, value('b')),
    done(4, get('x'), 12, 13, value('a')),
  ];
  t.equal(checkLinearizable(kvModel, history).ok, false);
});

t.test('a read cannot see the old value after another read saw the new one', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 1, ok()),
    done(1, put('x', 'b'), 2, 20, ok()),
    done(2, get('x'), 3, 4, value('b')),
    done(3, get('x'), 5, 6, value('a')),
  ];
  t.equal(checkLinearizable(kvModel, history).ok, false);
});

t.test('two cas with the same expected version cannot both succeed', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 1, ok()),
    done(2, cas('x', 1, 'b'), 2, 5, ok()),
    done(3, cas('x', 1, 'c'), 3, 6, ok()),
  ];
  t.equal(checkLinearizable(kvModel, history).ok, false);
});

t.test('a successful cas cannot be lost', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 1, ok()),
    done(1, cas('x', 1, 'b'), 2, 3, ok()),
    done(2, get('x'), 4, 5, value('a')),
  ];
  t.equal(checkLinearizable(kvModel, history).ok, false);
});

t.test('a read reporting the wrong version is not linearizable', async (t) => {
  const history = [done(1, put('x', 'a'), 0, 1, ok()), done(2, get('x'), 2, 3, value('a', 2))];
  t.equal(checkLinearizable(kvModel, history).ok, false);
});

t.test('a pending write cannot explain a read that returned before the write was called', async (t) => {
  const history = [done(1, get('x'), 0, 1, value('a')), pending(2, put('x', 'a'), 2)];
  t.equal(checkLinearizable(kvModel, history).ok, false);
});

t.test('a failure names the partition, its operations and where the search got stuck', async (t) => {
  const history = [
    done(1, put('x', 'a'), 0, 1, ok()),
    done(1, put('y', 'a'), 0, 1, ok()),
    done(1, put('y', 'b'), 2, 3, ok()),
    done(2, get('y'), 4, 5, value('a')),
    done(2, get('x'), 4, 5, value('a')),
  ];
  const result = checkLinearizable(kvModel, history);
  if (result.ok !== false) return t.fail(`expected a failure, got ${JSON.stringify(result)}`);
  t.equal(result.partition, 1, 'partitions are in key order: x, y');
  t.ok(result.operations.every((op) => op.input.key === 'y'), 'only the failing key\'s operations');
  t.match(result.message, /^partition 1: not linearizable \(3 operations\)/);
  t.match(result.message, /Longest linearizable prefix found \(2 operations/);
  t.match(result.message, /State after it: y = "b" \(version 2\)/);
  t.match(result.message, /Stuck at the return of[^\n]*\n\s+get\(y\) -> "a"  \[client 2, call 4, return 5\]/);
});

t.test('a search over its step budget answers unknown instead of running on', async (t) => {
  // 14 concurrent writes then a read no order explains: the search must visit every subset.
  const writes = Array.from({ length: 14 }, (_, i) => done(i, put('x', `v${i}`), 0, 100, ok()));
  const history = [...writes, done(99, get('x'), 101, 102, value('never'))];
  t.same(checkLinearizable(kvModel, history, { max_steps: 1000 }), { ok: 'unknown', reason: 'timeout' });
});

t.test('a search over its time budget answers unknown instead of running on', async (t) => {
  const writes = Array.from({ length: 24 }, (_, i) => done(i, put('x', `v${i}`), 0, 100, ok()));
  const history = [...writes, done(99, get('x'), 101, 102, value('never'))];
  t.same(checkLinearizable(kvModel, history, { timeout_ms: 50 }), { ok: 'unknown', reason: 'timeout' });
});

t.test('a cheap failing partition is reported even when a costly one exhausts the budget', async (t) => {
  const writes = Array.from({ length: 14 }, (_, i) => done(i, put('x', `v${i}`), 0, 100, ok()));
  const history = [
    ...writes,
    done(99, get('x'), 101, 102, value('never')),
    done(1, put('y', 'a'), 0, 1, ok()),
    done(2, get('y'), 2, 3, value('z')),
  ];
  const result = checkLinearizable(kvModel, history, { max_steps: 1000 });
  t.equal(result.ok, false);
  t.equal(result.ok === false && result.partition, 1);
});

t.test('an operation returning before its call is refused', async (t) => {
  t.throws(() => checkLinearizable(kvModel, [done(1, get('x'), 5, 4, value(undefined))]), { code: 'INTERNAL' });
});

// A FIFO queue, to show the checker is not tied to registers (and runs unpartitioned).
type QueueInput = { op: 'enqueue'; item: string } | { op: 'dequeue' };
const queueModel: Model<readonly string[], QueueInput, string | null> = {
  init: () => [],
  step(state, input, output) {
    if (input.op === 'enqueue') return { ok: output === undefined || output === null, next: [...state, input.item] };
    const head = state[0] ?? null;
    return { ok: output === undefined || output === head, next: state.slice(1) };
  },
  equal: (a, b) => a.length === b.length && a.every((item, i) => item === b[i]),
  hash: (state) => JSON.stringify(state),
  describe: (op) => `${op.input.op}${op.input.op === 'enqueue' ? `(${op.input.item})` : '()'} -> ${op.output}`,
};

t.test('a queue model: concurrent enqueues dequeued in one order are linearizable', async (t) => {
  const history = [
    { clientId: 1, input: { op: 'enqueue', item: 'a' } as const, call: 0, return: 10, output: null },
    { clientId: 2, input: { op: 'enqueue', item: 'b' } as const, call: 0, return: 10, output: null },
    { clientId: 3, input: { op: 'dequeue' } as const, call: 11, return: 12, output: 'b' },
    { clientId: 3, input: { op: 'dequeue' } as const, call: 13, return: 14, output: 'a' },
  ];
  t.same(checkLinearizable(queueModel, history), { ok: true });
});

t.test('a queue model: an item dequeued twice is not linearizable', async (t) => {
  const history = [
    { clientId: 1, input: { op: 'enqueue', item: 'a' } as const, call: 0, return: 1, output: null },
    { clientId: 2, input: { op: 'dequeue' } as const, call: 2, return: 5, output: 'a' },
    { clientId: 3, input: { op: 'dequeue' } as const, call: 2, return: 5, output: 'a' },
  ];
  t.equal(checkLinearizable(queueModel, history).ok, false);
});

t.test('states with colliding hashes are still told apart by equal', async (t) => {
  const colliding = { ...queueModel, hash: () => 'same' };
  const history = [
    { clientId: 1, input: { op: 'enqueue', item: 'a' } as const, call: 0, return: 10, output: null },
    { clientId: 2, input: { op: 'enqueue', item: 'b' } as const, call: 0, return: 10, output: null },
    { clientId: 3, input: { op: 'dequeue' } as const, call: 11, return: 12, output: 'b' },
  ];
  t.same(checkLinearizable(colliding, history), { ok: true });
});
