// The strict tree's node semantics, after ZooKeeper's DataTreeTest and the client API docs.
import t from 'tap';
import { ZnodeTree } from '../../znode/index.js';
import { bytes, ReplicaHarness, text } from './replica-harness.js';

t.test('a new node has czxid = mzxid = pzxid = its zxid, ctime = mtime, versions 0', async (t) => {
  const r = new ReplicaHarness();
  r.now_ms = 5_000;
  r.create('/a', 'hello');
  const stat = r.tree.exists('/a');
  t.same(stat, {
    czxid: 1,
    mzxid: 1,
    pzxid: 1,
    ctime: 5_000,
    mtime: 5_000,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0,
    dataLength: 5,
    numChildren: 0,
  });
});

t.test('setData bumps version, mzxid and mtime but not czxid or ctime', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a', 'v0');
  r.now_ms = 9_000;
  r.setData('/a', 'v1-longer');
  const { data, stat } = r.tree.getData('/a');
  t.equal(text(data), 'v1-longer');
  t.equal(stat.version, 1);
  t.equal(stat.mzxid, 2);
  t.equal(stat.mtime, 9_000);
  t.equal(stat.czxid, 1);
  t.equal(stat.ctime, 1_000);
  t.equal(stat.dataLength, 9);
});

t.test('child create increments parent cversion and numChildren and sets pzxid', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.create('/p/a');
  r.create('/p/b');
  const stat = r.tree.exists('/p');
  t.equal(stat?.cversion, 2);
  t.equal(stat?.numChildren, 2);
  t.equal(stat?.pzxid, 3);
  t.equal(stat?.version, 0, 'children do not touch the data version');
  t.equal(stat?.mzxid, 1, 'children do not touch mzxid');
});

t.test('child delete increments parent cversion and sets pzxid', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.create('/p/a');
  r.delete('/p/a');
  const stat = r.tree.exists('/p');
  t.equal(stat?.cversion, 2, 'one create + one delete');
  t.equal(stat?.numChildren, 0);
  t.equal(stat?.pzxid, 3);
});

t.test('grandchild changes do not touch the grandparent cversion', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.create('/p/a');
  r.create('/p/a/x');
  t.equal(r.tree.exists('/p')?.cversion, 1);
  t.equal(r.tree.exists('/p')?.pzxid, 2);
});

t.test('the root exists and lists top-level nodes', async (t) => {
  const r = new ReplicaHarness();
  t.ok(r.tree.exists('/'));
  r.create('/b');
  r.create('/a');
  t.same(r.tree.getChildren('/').children, ['a', 'b']);
});

t.test('create under a missing parent fails with NO_NODE', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.create('/missing/child'), { code: 'NO_NODE' });
  t.equal(r.tree.exists('/missing/child'), null);
});

t.test('create of an existing path fails with NODE_EXISTS', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  t.throws(() => r.create('/a'), { code: 'NODE_EXISTS' });
  t.throws(() => r.create('/'), { code: 'NODE_EXISTS' });
});

t.test('delete of a node with children fails with NOT_EMPTY', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.create('/p/c');
  t.throws(() => r.delete('/p'), { code: 'NOT_EMPTY' });
  t.ok(r.tree.exists('/p'));
});

t.test('delete and setData of a missing node fail with NO_NODE', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.delete('/nope'), { code: 'NO_NODE' });
  t.throws(() => r.setData('/nope', 'x'), { code: 'NO_NODE' });
  t.throws(() => r.tree.getData('/nope'), { code: 'NO_NODE' });
});

t.test('the root cannot be deleted', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.delete('/'), { code: 'BAD_ARGUMENTS' });
});

t.test('setData with a wrong version fails with BAD_VERSION and changes nothing', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a', 'v0');
  r.setData('/a', 'v1', 0);
  t.throws(() => r.setData('/a', 'v2', 0), { code: 'BAD_VERSION' });
  t.equal(text(r.tree.getData('/a').data), 'v1');
  t.equal(r.tree.exists('/a')?.version, 1);
});

t.test('setData with version -1 always applies', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  r.setData('/a', 'x', -1);
  r.setData('/a', 'y', -1);
  t.equal(r.tree.exists('/a')?.version, 2);
});

t.test('delete with a wrong version fails with BAD_VERSION; the right one deletes', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  r.setData('/a', 'x');
  t.throws(() => r.delete('/a', 0), { code: 'BAD_VERSION' });
  t.ok(r.tree.exists('/a'));
  r.delete('/a', 1);
  t.equal(r.tree.exists('/a'), null);
});

t.test('a version below -1 is BAD_ARGUMENTS', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  t.throws(() => r.setData('/a', 'x', -2), { code: 'BAD_ARGUMENTS' });
});

t.test('invalid paths fail with BAD_PATH', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.create('relative'), { code: 'BAD_PATH' });
  t.throws(() => r.create('/a//b'), { code: 'BAD_PATH' });
  t.throws(() => r.create('/a/'), { code: 'BAD_PATH' });
  t.throws(() => r.tree.exists('/a/../b'), { code: 'BAD_PATH' });
});

t.test('data over the limit fails with DATA_TOO_LARGE; at the limit it is accepted', async (t) => {
  const r = new ReplicaHarness({ hierarchy: 'strict', maxDataBytes: 8 });
  t.throws(
    () => r.write({ op: 'create', path: '/big', data: new Uint8Array(9), mode: 'persistent' }),
    { code: 'DATA_TOO_LARGE' },
  );
  r.write({ op: 'create', path: '/ok', data: new Uint8Array(8), mode: 'persistent' });
  t.throws(() => r.write({ op: 'setData', path: '/ok', data: new Uint8Array(9), version: -1 }), {
    code: 'DATA_TOO_LARGE',
  });
});

t.test('the default data limit is 1 MiB', async (t) => {
  const r = new ReplicaHarness();
  r.write({ op: 'create', path: '/mib', data: new Uint8Array(1024 * 1024), mode: 'persistent' });
  t.throws(
    () => r.write({ op: 'create', path: '/over', data: new Uint8Array(1024 * 1024 + 1), mode: 'persistent' }),
    { code: 'DATA_TOO_LARGE' },
  );
});

t.test('sequential nodes get 10-digit suffixes from the parent counter', async (t) => {
  const r = new ReplicaHarness();
  r.create('/q');
  t.equal(r.create('/q/item-', '', 'persistent_sequential'), '/q/item-0000000000');
  t.equal(r.create('/q/item-', '', 'persistent_sequential'), '/q/item-0000000001');
});

t.test('sequential numbering counts every child create and continues after deletes', async (t) => {
  const r = new ReplicaHarness();
  r.create('/q');
  r.create('/q/plain');
  const first = r.create('/q/s-', '', 'persistent_sequential');
  t.equal(first, '/q/s-0000000001', 'the plain create used number 0');
  r.delete(first);
  r.delete('/q/plain');
  t.equal(r.create('/q/s-', '', 'persistent_sequential'), '/q/s-0000000002', 'deletes do not reuse numbers');
});

t.test('a sequential base ending in / names the child by the number alone', async (t) => {
  const r = new ReplicaHarness();
  r.create('/q');
  t.equal(r.create('/q/', '', 'persistent_sequential'), '/q/0000000000');
  t.equal(r.create('/', '', 'persistent_sequential'), '/0000000001');
});

t.test('sequential numbering restarts when the parent is deleted and re-created', async (t) => {
  const r = new ReplicaHarness();
  r.create('/q');
  r.delete(r.create('/q/s-', '', 'persistent_sequential'));
  r.delete('/q');
  r.create('/q');
  t.equal(r.create('/q/s-', '', 'persistent_sequential'), '/q/s-0000000000');
  t.equal(r.tree.exists('/q')?.cversion, 1);
});

t.test('ephemeral nodes record their session as ephemeralOwner', async (t) => {
  const r = new ReplicaHarness();
  r.openSession(77);
  r.create('/e', '', 'ephemeral', 77);
  r.create('/p', '', 'persistent', 77);
  t.equal(r.tree.exists('/e')?.ephemeralOwner, 77);
  t.equal(r.tree.exists('/p')?.ephemeralOwner, 0);
  t.same(r.tree.sessionEphemerals(77), ['/e']);
});

t.test('ephemeral nodes cannot have children', async (t) => {
  const r = new ReplicaHarness();
  r.openSession(77);
  r.create('/e', '', 'ephemeral', 77);
  t.throws(() => r.create('/e/child'), { code: 'NO_CHILDREN_FOR_EPHEMERALS' });
  t.throws(() => r.create('/e/child', '', 'ephemeral', 77), { code: 'NO_CHILDREN_FOR_EPHEMERALS' });
});

t.test('an ephemeral needs an open session', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.create('/e', '', 'ephemeral', 0), { code: 'BAD_ARGUMENTS' });
  t.throws(() => r.create('/e', '', 'ephemeral', 5), { code: 'SESSION_EXPIRED' });
});

t.test('TTL modes need a positive ttl_ms and other modes refuse one', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.create('/t', '', 'persistent_with_ttl'), { code: 'BAD_ARGUMENTS' });
  t.throws(() => r.create('/t', '', 'persistent_with_ttl', 0, 0), { code: 'BAD_ARGUMENTS' });
  t.throws(() => r.create('/t', '', 'persistent', 0, 100), { code: 'BAD_ARGUMENTS' });
  t.equal(r.create('/t', '', 'persistent_with_ttl', 0, 100), '/t');
  t.equal(r.create('/t-', '', 'persistent_sequential_with_ttl', 0, 100), '/t-0000000001');
});

t.test('an unknown create mode is BAD_ARGUMENTS', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.write({ op: 'create', path: '/x', data: bytes(''), mode: 'bogus' as 'persistent' }), {
    code: 'BAD_ARGUMENTS',
  });
});

t.test('getChildren of a missing node is NO_NODE in the strict tree', async (t) => {
  const tree = new ZnodeTree({ hierarchy: 'strict' });
  t.throws(() => tree.getChildren('/missing'), { code: 'NO_NODE' });
});

t.test('replayed create of an existing node only raises the parent counter (fuzzy snapshot)', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.create('/p/a');
  const before = r.tree.getData('/p/a').stat;
  // The log holds a create of /p/a that the snapshot already had, with a later counter.
  const { result } = r.tree.apply(
    { type: 'create', path: '/p/a', data: bytes('other'), kind: 'persistent', ephemeralOwner: 0, ttl_ms: 0, parentCreates: 5 },
    10,
    2_000,
  );
  t.equal(result.type, 'noop');
  t.same(r.tree.getData('/p/a').stat, before, 'the node is untouched');
  t.equal(text(r.tree.getData('/p/a').data), '');
  const parent = r.tree.exists('/p');
  t.equal(parent?.cversion, 2 * 5 - 1);
  t.equal(parent?.pzxid, 10);
});

t.test('replayed create with a lower counter does not take cversion back', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.create('/p/a');
  r.create('/p/b');
  r.tree.apply(
    { type: 'create', path: '/p/a', data: bytes(''), kind: 'persistent', ephemeralOwner: 0, ttl_ms: 0, parentCreates: 1 },
    10,
    2_000,
  );
  t.equal(r.tree.exists('/p')?.cversion, 2);
  t.equal(r.tree.exists('/p')?.pzxid, 3);
});

t.test('delete of a missing child still moves the parent pzxid forward (ZooKeeper)', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  const { result } = r.tree.apply({ type: 'delete', path: '/p/gone' }, 10, 2_000);
  t.equal(result.type, 'noop');
  t.equal(r.tree.exists('/p')?.pzxid, 10);
});

t.test('setData replay is state-setting: the version comes from the txn', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  r.tree.apply({ type: 'setData', path: '/a', data: bytes('x'), version: 7 }, 10, 2_000);
  t.equal(r.tree.exists('/a')?.version, 7);
  const { result } = r.tree.apply({ type: 'setData', path: '/gone', data: bytes('x'), version: 1 }, 11, 2_000);
  t.equal(result.type, 'noop');
});

t.test('apply refuses a zxid that does not grow', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  t.throws(() => r.tree.apply({ type: 'check', path: '/a' }, 1, 0), { code: 'INTERNAL' });
});

t.test('lastZxid follows the applied txns', async (t) => {
  const r = new ReplicaHarness();
  t.equal(r.tree.lastZxid, 0);
  r.create('/a');
  r.create('/b');
  t.equal(r.tree.lastZxid, 2);
});
