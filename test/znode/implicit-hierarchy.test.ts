// The implicit hierarchy of the shard data plane: parents need not exist, deletes leave children.
import t from 'tap';
import { ReplicaHarness } from './replica-harness.js';

const implicit = (): ReplicaHarness => new ReplicaHarness({ hierarchy: 'implicit' });

t.test('create needs no parent', async (t) => {
  const r = implicit();
  t.equal(r.create('/locks/job-7/owner', 'me'), '/locks/job-7/owner');
  t.equal(r.tree.exists('/locks/job-7'), null, 'the parent was not made');
  t.equal(r.tree.exists('/locks'), null);
});

t.test('an implicit directory lists its children', async (t) => {
  const r = implicit();
  r.create('/d/b');
  r.create('/d/a');
  const listing = r.tree.getChildren('/d');
  t.same(listing.children, ['a', 'b']);
  t.equal(listing.stat, null, 'no node at /d');
  t.same(listing.directory, { cversion: 2, pzxid: 2, numChildren: 2 });
});

t.test('an unused directory lists empty instead of NO_NODE', async (t) => {
  const r = implicit();
  t.same(r.tree.getChildren('/never').children, []);
});

t.test('there is no root node, but the root directory lists top-level nodes', async (t) => {
  const r = implicit();
  t.equal(r.tree.exists('/'), null);
  r.create('/top');
  t.same(r.tree.getChildren('/').children, ['top']);
});

t.test('delete leaves the children in place', async (t) => {
  const r = implicit();
  r.create('/p', 'parent');
  r.create('/p/c');
  r.delete('/p');
  t.equal(r.tree.exists('/p'), null);
  t.ok(r.tree.exists('/p/c'));
  t.same(r.tree.getChildren('/p').children, ['c']);
});

t.test('sequential numbers are per directory and survive the deletion of every child', async (t) => {
  const r = implicit();
  const first = r.create('/q/item-', '', 'persistent_sequential');
  const other = r.create('/other/item-', '', 'persistent_sequential');
  t.equal(first, '/q/item-0000000000');
  t.equal(other, '/other/item-0000000000', 'another directory has its own counter');
  r.delete(first);
  t.same(r.tree.getChildren('/q').children, []);
  t.equal(r.create('/q/item-', '', 'persistent_sequential'), '/q/item-0000000001');
});

t.test('the directory counter survives deleting and re-creating the node at its path', async (t) => {
  const r = implicit();
  r.create('/q');
  r.delete(r.create('/q/s-', '', 'persistent_sequential'));
  r.delete('/q');
  r.create('/q');
  t.equal(r.create('/q/s-', '', 'persistent_sequential'), '/q/s-0000000001');
});

t.test('the directory counter is part of snapshots', async (t) => {
  const r = implicit();
  r.delete(r.create('/q/s-', '', 'persistent_sequential'));
  const copy = implicit();
  copy.tree.restore(r.tree.serialise());
  copy.zxid = r.zxid;
  t.equal(copy.create('/q/s-', '', 'persistent_sequential'), '/q/s-0000000001');
});

t.test('a node in an implicit directory reports the directory counters in its parent stat', async (t) => {
  const r = implicit();
  r.create('/p/a');
  r.create('/p');
  const stat = r.tree.exists('/p');
  t.equal(stat?.numChildren, 1);
  t.equal(stat?.cversion, 1);
});

t.test('a child watch on an implicit directory fires on a create in it', async (t) => {
  const r = implicit();
  r.tree.getChildren('/jobs', 'w');
  const { events } = r.write({ op: 'create', path: '/jobs/j1', data: new Uint8Array(0), mode: 'persistent' });
  t.same(
    events.map((event) => [event.type, event.path]),
    [['NodeChildrenChanged', '/jobs']],
  );
});

t.test('the strict checks still hold per node: NODE_EXISTS, NO_NODE, BAD_VERSION', async (t) => {
  const r = implicit();
  r.create('/a/b');
  t.throws(() => r.create('/a/b'), { code: 'NODE_EXISTS' });
  t.throws(() => r.delete('/a/missing'), { code: 'NO_NODE' });
  t.throws(() => r.setData('/a/b', 'x', 3), { code: 'BAD_VERSION' });
});

t.test('a snapshot of one hierarchy does not restore into the other', async (t) => {
  const r = implicit();
  r.create('/a');
  const strict = new ReplicaHarness({ hierarchy: 'strict' });
  t.throws(() => strict.tree.restore(r.tree.serialise()), { code: 'CORRUPT_SNAPSHOT' });
});
