// Watch bookkeeping (after ZooKeeper's WatcherTest, DataTreeTest and the 3.6 persistent watch tests).
import t from 'tap';
import type { WatchEvent } from '../../znode/index.js';
import { ReplicaHarness } from './replica-harness.js';

const summary = (events: WatchEvent[]): Array<[string, string, Array<number | string>]> =>
  events.map((event) => [event.type, event.path, [...event.watchers].sort()]);

t.test('a getData watch fires once on setData, then is gone', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  r.tree.getData('/a', 1);
  t.same(summary(r.setData('/a', 'x').events), [['NodeDataChanged', '/a', [1]]]);
  t.same(r.setData('/a', 'y').events, [], 'one-shot');
  t.equal(r.tree.watchCount, 0);
});

t.test('an exists watch on a missing node fires NodeCreated on create', async (t) => {
  const r = new ReplicaHarness();
  t.equal(r.tree.exists('/later', 1), null);
  const { events } = r.write({ op: 'create', path: '/later', data: new Uint8Array(0), mode: 'persistent' });
  t.same(summary(events), [['NodeCreated', '/later', [1]]]);
});

t.test('an exists watch on a node fires NodeDeleted on delete', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  r.tree.exists('/a', 1);
  t.same(summary(r.delete('/a').events), [['NodeDeleted', '/a', [1]]]);
});

t.test('getData on a missing node sets no watch', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.tree.getData('/missing', 1), { code: 'NO_NODE' });
  t.equal(r.tree.watchCount, 0);
});

t.test('a child watch fires NodeChildrenChanged once on a child create', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.tree.getChildren('/p', 1);
  const first = r.write({ op: 'create', path: '/p/a', data: new Uint8Array(0), mode: 'persistent' });
  t.same(summary(first.events), [['NodeChildrenChanged', '/p', [1]]]);
  const second = r.write({ op: 'create', path: '/p/b', data: new Uint8Array(0), mode: 'persistent' });
  t.same(second.events, [], 'one-shot');
});

t.test('a child watch fires on a child delete but not on a child setData', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.create('/p/a');
  r.tree.getChildren('/p', 1);
  t.same(r.setData('/p/a', 'x').events, []);
  t.same(summary(r.delete('/p/a').events), [['NodeChildrenChanged', '/p', [1]]]);
});

t.test('a child watch on the root fires for a top-level create', async (t) => {
  const r = new ReplicaHarness();
  r.tree.getChildren('/', 'root-watcher');
  const { events } = r.write({ op: 'create', path: '/xyz', data: new Uint8Array(0), mode: 'persistent' });
  t.same(summary(events), [['NodeChildrenChanged', '/', ['root-watcher']]]);
});

t.test('deleting a node fires NodeDeleted to its data and child watchers, once each, then the parent event', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.create('/p/a');
  r.tree.getData('/p/a', 1);
  r.tree.getChildren('/p/a', 1);
  r.tree.getChildren('/p/a', 2);
  r.tree.getChildren('/p', 3);
  t.same(summary(r.delete('/p/a').events), [
    ['NodeDeleted', '/p/a', [1, 2]],
    ['NodeChildrenChanged', '/p', [3]],
  ]);
  t.equal(r.tree.watchCount, 0);
});

t.test('events carry the zxid of the txn that fired them', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  r.tree.getData('/a', 1);
  const { events, zxid } = r.setData('/a', 'x');
  t.equal(events[0]?.zxid, zxid);
});

t.test('a persistent watch fires on every data and child change of its path and stays', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.tree.addWatch('/p', 1, 'persistent');
  t.same(summary(r.setData('/p', 'x').events), [['NodeDataChanged', '/p', [1]]]);
  t.same(summary(r.setData('/p', 'y').events), [['NodeDataChanged', '/p', [1]]]);
  const child = r.write({ op: 'create', path: '/p/c', data: new Uint8Array(0), mode: 'persistent' });
  t.same(summary(child.events), [['NodeChildrenChanged', '/p', [1]]]);
  t.same(r.setData('/p/c', 'z').events, [], 'not for the data of a child');
  t.equal(r.tree.watchCount, 1);
});

t.test('a persistent watch on a missing path fires on its create and on its delete', async (t) => {
  const r = new ReplicaHarness();
  r.tree.addWatch('/later', 1, 'persistent');
  t.same(summary(r.write({ op: 'create', path: '/later', data: new Uint8Array(0), mode: 'persistent' }).events), [
    ['NodeCreated', '/later', [1]],
  ]);
  t.same(summary(r.delete('/later').events), [['NodeDeleted', '/later', [1]]]);
});

t.test('a recursive watch fires for creates, changes and deletes of descendants at any depth', async (t) => {
  const r = new ReplicaHarness();
  r.create('/app');
  r.tree.addWatch('/app', 1, 'persistent_recursive');
  const created = r.write({ op: 'create', path: '/app/a', data: new Uint8Array(0), mode: 'persistent' });
  t.same(summary(created.events), [['NodeCreated', '/app/a', [1]]], 'no NodeChildrenChanged for recursive watches');
  const deeper = r.write({ op: 'create', path: '/app/a/b', data: new Uint8Array(0), mode: 'persistent' });
  t.same(summary(deeper.events), [['NodeCreated', '/app/a/b', [1]]]);
  t.same(summary(r.setData('/app/a/b', 'x').events), [['NodeDataChanged', '/app/a/b', [1]]]);
  t.same(summary(r.delete('/app/a/b').events), [['NodeDeleted', '/app/a/b', [1]]]);
  t.same(summary(r.setData('/app', 'self').events), [['NodeDataChanged', '/app', [1]]]);
});

t.test('a recursive watch does not fire for a sibling with a common name prefix', async (t) => {
  const r = new ReplicaHarness();
  r.create('/app');
  r.tree.addWatch('/app', 1, 'persistent_recursive');
  const { events } = r.write({ op: 'create', path: '/application', data: new Uint8Array(0), mode: 'persistent' });
  t.same(events, []);
});

t.test('a recursive watch on the root sees everything', async (t) => {
  const r = new ReplicaHarness();
  r.tree.addWatch('/', 'all', 'persistent_recursive');
  const { events } = r.write({ op: 'create', path: '/x', data: new Uint8Array(0), mode: 'persistent' });
  t.same(summary(events), [['NodeCreated', '/x', ['all']]]);
});

t.test('a watcher registered several ways gets one copy of an event', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  r.tree.getData('/a', 1);
  r.tree.exists('/a', 1);
  r.tree.addWatch('/a', 1, 'persistent');
  r.tree.addWatch('/', 1, 'persistent_recursive');
  t.same(summary(r.setData('/a', 'x').events), [['NodeDataChanged', '/a', [1]]]);
});

t.test('removeWatcher drops every registration of a watcher and only its own', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  r.tree.getData('/a', 1);
  r.tree.getChildren('/a', 1);
  r.tree.addWatch('/a', 1, 'persistent');
  r.tree.getData('/a', 2);
  r.tree.removeWatcher(1);
  t.same(summary(r.setData('/a', 'x').events), [['NodeDataChanged', '/a', [2]]]);
});

t.test('removeWatch removes one registration', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  r.tree.addWatch('/a', 1, 'persistent');
  t.equal(r.tree.removeWatch('persistent', '/a', 1), true);
  t.equal(r.tree.removeWatch('persistent', '/a', 1), false);
  t.same(r.setData('/a', 'x').events, []);
});

t.test('a txn with no watcher reports no event', async (t) => {
  const r = new ReplicaHarness();
  t.same(r.write({ op: 'create', path: '/a', data: new Uint8Array(0), mode: 'persistent' }).events, []);
});
