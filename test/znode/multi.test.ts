// multi: all or nothing, per-op results (after ZooKeeper's MultiOperationTest).
import t from 'tap';
import { ShardkvError } from '../../errors/codes.js';
import type { MultiOpFailure, MultiOpRequest } from '../../znode/index.js';
import { bytes, ReplicaHarness, text } from './replica-harness.js';

function multiError(fn: () => unknown): ShardkvError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ShardkvError) return error;
    throw error;
  }
  throw new Error('expected the multi to fail');
}

const create = (path: string, data = ''): MultiOpRequest => ({ op: 'create', path, data: bytes(data), mode: 'persistent' });

t.test('a multi of create, setData, check and delete applies all and returns per-op results', async (t) => {
  const r = new ReplicaHarness();
  r.create('/old');
  const { result } = r.write({
    op: 'multi',
    ops: [
      create('/a', 'x'),
      { op: 'setData', path: '/a', data: bytes('y'), version: 0 },
      { op: 'check', path: '/a', version: 1 },
      { op: 'delete', path: '/old', version: 0 },
    ],
  });
  if (result.type !== 'multi') throw new Error('not a multi result');
  t.same(
    result.results.map((sub) => sub.type),
    ['create', 'setData', 'check', 'delete'],
  );
  t.equal(text(r.tree.getData('/a').data), 'y');
  t.equal(r.tree.exists('/a')?.version, 1);
  t.equal(r.tree.exists('/old'), null);
});

t.test('all ops of a multi share one zxid', async (t) => {
  const r = new ReplicaHarness();
  r.write({ op: 'multi', ops: [create('/a'), create('/b')] });
  t.equal(r.tree.exists('/a')?.czxid, 1);
  t.equal(r.tree.exists('/b')?.czxid, 1);
  t.equal(r.tree.lastZxid, 1);
});

t.test('a failing op rolls the whole multi back and leaves the tree unchanged', async (t) => {
  const r = new ReplicaHarness();
  r.create('/keep', 'v0');
  const before = r.tree.dump();
  const error = multiError(() =>
    r.write({
      op: 'multi',
      ops: [
        create('/new'),
        { op: 'setData', path: '/keep', data: bytes('v1'), version: -1 },
        { op: 'delete', path: '/missing', version: -1 },
        create('/after'),
      ],
    }),
  );
  t.equal(error.code, 'MULTI_FAILED');
  t.same(r.tree.dump(), before);
  t.equal(r.preparer.pendingCount, 0, 'no pending change survives the failure');
});

t.test('a failed multi reports rolled_back, the error, then not_run (ZooKeeper OK / error / RUNTIME_INCONSISTENCY)', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  const error = multiError(() =>
    r.write({
      op: 'multi',
      ops: [create('/b'), { op: 'check', path: '/a', version: 3 }, create('/c')],
    }),
  );
  t.equal(error.details?.failedIndex, 1);
  t.equal(error.details?.failedCode, 'BAD_VERSION');
  const results = error.details?.results as MultiOpFailure[];
  t.same(
    results.map((result) => result.status),
    ['rolled_back', 'failed', 'not_run'],
  );
  t.match(results[1], { status: 'failed', code: 'BAD_VERSION' });
});

t.test('after a failed multi the same paths can be created (pending changes rolled back)', async (t) => {
  const r = new ReplicaHarness();
  multiError(() => r.write({ op: 'multi', ops: [create('/x'), { op: 'check', path: '/none', version: -1 }] }));
  t.equal(r.create('/x'), '/x');
});

t.test('ops of a multi see the earlier ops: create a parent and its child', async (t) => {
  const r = new ReplicaHarness();
  r.write({ op: 'multi', ops: [create('/p'), create('/p/c')] });
  t.same(r.tree.getChildren('/p').children, ['c']);
});

t.test('create then delete of the same node in one multi leaves no node', async (t) => {
  const r = new ReplicaHarness();
  r.write({ op: 'multi', ops: [create('/tmp'), { op: 'delete', path: '/tmp', version: 0 }] });
  t.equal(r.tree.exists('/tmp'), null);
  t.equal(r.tree.exists('/')?.cversion, 2);
});

t.test('delete then create of the same path in one multi gives a fresh node', async (t) => {
  const r = new ReplicaHarness();
  r.create('/n', 'old');
  r.setData('/n', 'older');
  r.write({ op: 'multi', ops: [{ op: 'delete', path: '/n', version: 1 }, create('/n', 'new')] });
  t.equal(text(r.tree.getData('/n').data), 'new');
  t.equal(r.tree.exists('/n')?.version, 0);
  t.equal(r.tree.exists('/n')?.czxid, 3);
});

t.test('two setData of one node in a multi chain their versions', async (t) => {
  const r = new ReplicaHarness();
  r.create('/n');
  r.write({
    op: 'multi',
    ops: [
      { op: 'setData', path: '/n', data: bytes('1'), version: 0 },
      { op: 'setData', path: '/n', data: bytes('2'), version: 1 },
    ],
  });
  t.equal(r.tree.exists('/n')?.version, 2);
  t.equal(text(r.tree.getData('/n').data), '2');
});

t.test('a child created in a multi makes a delete of its parent in the same multi fail NOT_EMPTY', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  const error = multiError(() =>
    r.write({ op: 'multi', ops: [create('/p/c'), { op: 'delete', path: '/p', version: -1 }] }),
  );
  t.equal(error.details?.failedCode, 'NOT_EMPTY');
  t.equal(r.tree.exists('/p/c'), null);
});

t.test('sequential creates in one multi get consecutive numbers', async (t) => {
  const r = new ReplicaHarness();
  r.create('/q');
  const seq: MultiOpRequest = { op: 'create', path: '/q/s-', data: bytes(''), mode: 'persistent_sequential' };
  const { result } = r.write({ op: 'multi', ops: [seq, seq] });
  if (result.type !== 'multi') throw new Error('not a multi result');
  t.same(
    result.results.map((sub) => sub.path),
    ['/q/s-0000000000', '/q/s-0000000001'],
  );
});

t.test('an invalid path inside a multi fails it with BAD_PATH as the cause', async (t) => {
  const r = new ReplicaHarness();
  const error = multiError(() => r.write({ op: 'multi', ops: [create('/ok'), create('bad')] }));
  t.equal(error.details?.failedCode, 'BAD_PATH');
  t.equal(r.tree.exists('/ok'), null);
});

t.test('a session op inside a multi is refused', async (t) => {
  const r = new ReplicaHarness();
  const error = multiError(() =>
    r.write({ op: 'multi', ops: [{ op: 'createSession', sessionId: 1, timeout_ms: 10 } as unknown as MultiOpRequest] }),
  );
  t.equal(error.details?.failedCode, 'BAD_ARGUMENTS');
});

t.test('an empty multi succeeds with no results', async (t) => {
  const r = new ReplicaHarness();
  const { result } = r.write({ op: 'multi', ops: [] });
  t.same(result, { type: 'multi', results: [] });
});

t.test('a multi fires the watch events of each of its ops', async (t) => {
  const r = new ReplicaHarness();
  r.create('/w');
  r.tree.getData('/w', 'watcher');
  r.tree.exists('/new', 'watcher');
  const { events } = r.write({
    op: 'multi',
    ops: [{ op: 'setData', path: '/w', data: bytes('x'), version: -1 }, create('/new')],
  });
  t.same(
    events.map((event) => [event.type, event.path]),
    [
      ['NodeDataChanged', '/w'],
      ['NodeCreated', '/new'],
    ],
  );
});
