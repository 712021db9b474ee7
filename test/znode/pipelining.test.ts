// The leader prepares several txns before the first applies: prepares see the pending ones.
import t from 'tap';
import type { PrepareContext, Request, Txn } from '../../znode/index.js';
import { bytes, ReplicaHarness } from './replica-harness.js';

/** Prepares each request at the next zxids without applying any. */
function prepareAll(r: ReplicaHarness, requests: Request[], sessionId = 0): Array<{ txn: Txn; zxid: number }> {
  return requests.map((request, index) => {
    const context: PrepareContext = { zxid: r.zxid + 1 + index, sessionId, now_ms: r.now_ms };
    return { txn: r.preparer.prepare(request, context), zxid: context.zxid };
  });
}

function commitAll(r: ReplicaHarness, prepared: Array<{ txn: Txn; zxid: number }>): void {
  for (const { txn, zxid } of prepared) {
    r.commit(txn, zxid);
    r.zxid = zxid;
  }
}

t.test('a second create of a path whose create is pending is NODE_EXISTS', async (t) => {
  const r = new ReplicaHarness();
  const [first] = prepareAll(r, [{ op: 'create', path: '/a', data: bytes(''), mode: 'persistent' }]);
  t.ok(first);
  t.throws(
    () => r.preparer.prepare({ op: 'create', path: '/a', data: bytes(''), mode: 'persistent' }, { zxid: 2, sessionId: 0, now_ms: 0 }),
    { code: 'NODE_EXISTS' },
  );
});

t.test('a child can be prepared under a parent whose create is pending', async (t) => {
  const r = new ReplicaHarness();
  const prepared = prepareAll(r, [
    { op: 'create', path: '/p', data: bytes(''), mode: 'persistent' },
    { op: 'create', path: '/p/c', data: bytes(''), mode: 'persistent' },
  ]);
  commitAll(r, prepared);
  t.same(r.tree.getChildren('/p').children, ['c']);
});

t.test('back-to-back sequential creates get distinct numbers', async (t) => {
  const r = new ReplicaHarness();
  r.create('/q');
  const seq: Request = { op: 'create', path: '/q/s-', data: bytes(''), mode: 'persistent_sequential' };
  const prepared = prepareAll(r, [seq, seq, seq]);
  t.same(
    prepared.map(({ txn }) => (txn.type === 'create' ? txn.path : '')),
    ['/q/s-0000000000', '/q/s-0000000001', '/q/s-0000000002'],
  );
  commitAll(r, prepared);
  t.equal(r.tree.exists('/q')?.numChildren, 3);
});

t.test('conditional setData chains on pending versions', async (t) => {
  const r = new ReplicaHarness();
  r.create('/n');
  const prepared = prepareAll(r, [
    { op: 'setData', path: '/n', data: bytes('1'), version: 0 },
    { op: 'setData', path: '/n', data: bytes('2'), version: 1 },
  ]);
  t.throws(
    () => r.preparer.prepare({ op: 'setData', path: '/n', data: bytes('x'), version: 1 }, { zxid: r.zxid + 3, sessionId: 0, now_ms: 0 }),
    { code: 'BAD_VERSION' },
  );
  commitAll(r, prepared);
  t.equal(r.tree.exists('/n')?.version, 2);
});

t.test('a pending delete makes a later delete NO_NODE and lets a create through', async (t) => {
  const r = new ReplicaHarness();
  r.create('/n');
  const prepared = prepareAll(r, [
    { op: 'delete', path: '/n', version: -1 },
    { op: 'create', path: '/n', data: bytes('again'), mode: 'persistent' },
  ]);
  t.throws(
    () => r.preparer.prepare({ op: 'delete', path: '/gone', version: -1 }, { zxid: r.zxid + 3, sessionId: 0, now_ms: 0 }),
    { code: 'NO_NODE' },
  );
  commitAll(r, prepared);
  t.equal(r.tree.exists('/n')?.czxid, 3);
});

t.test('a pending child create makes a delete of the parent NOT_EMPTY', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  prepareAll(r, [{ op: 'create', path: '/p/c', data: bytes(''), mode: 'persistent' }]);
  t.throws(
    () => r.preparer.prepare({ op: 'delete', path: '/p', version: -1 }, { zxid: r.zxid + 2, sessionId: 0, now_ms: 0 }),
    { code: 'NOT_EMPTY' },
  );
});

t.test('committed(zxid) clears the changes up to that zxid only', async (t) => {
  const r = new ReplicaHarness();
  const prepared = prepareAll(r, [
    { op: 'create', path: '/a', data: bytes(''), mode: 'persistent' },
    { op: 'create', path: '/b', data: bytes(''), mode: 'persistent' },
  ]);
  const before = r.preparer.pendingCount;
  const [first] = prepared;
  if (first === undefined) throw new Error('nothing prepared');
  r.commit(first.txn, first.zxid);
  t.ok(r.preparer.pendingCount > 0 && r.preparer.pendingCount < before);
  t.throws(
    () => r.preparer.prepare({ op: 'create', path: '/b', data: bytes(''), mode: 'persistent' }, { zxid: 3, sessionId: 0, now_ms: 0 }),
    { code: 'NODE_EXISTS' },
    '/b is still pending',
  );
});

t.test('reset forgets the pending changes (leader change)', async (t) => {
  const r = new ReplicaHarness();
  prepareAll(r, [{ op: 'create', path: '/lost', data: bytes(''), mode: 'persistent' }]);
  r.preparer.reset();
  t.equal(r.preparer.pendingCount, 0);
  t.equal(r.create('/lost'), '/lost');
});
