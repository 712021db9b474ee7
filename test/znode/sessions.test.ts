// Sessions: create/close txns, ephemeral cleanup, liveness (after ZooKeeper's session and EphemeralType tests).
import t from 'tap';
import { bytes, ReplicaHarness } from './replica-harness.js';

t.test('createSession opens a session; a second one with the same id is refused', async (t) => {
  const r = new ReplicaHarness();
  r.openSession(7, 5_000);
  t.equal(r.tree.hasSession(7), true);
  t.equal(r.tree.sessionTimeout(7), 5_000);
  t.throws(() => r.openSession(7), { code: 'BAD_ARGUMENTS' });
});

t.test('createSession needs a positive id and timeout', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.openSession(0), { code: 'BAD_ARGUMENTS' });
  t.throws(() => r.openSession(1.5), { code: 'BAD_ARGUMENTS' });
  t.throws(() => r.openSession(1, 0), { code: 'BAD_ARGUMENTS' });
});

t.test('closing a session deletes its ephemerals and fires their events', async (t) => {
  const r = new ReplicaHarness();
  r.openSession(7);
  r.openSession(8);
  r.create('/services');
  r.create('/services/a', '', 'ephemeral', 7);
  r.create('/services/b', '', 'ephemeral_sequential', 7);
  r.create('/services/c', '', 'ephemeral', 8);
  r.tree.exists('/services/a', 'w');
  r.tree.getChildren('/services', 'w');
  const { result, events } = r.write({ op: 'closeSession', sessionId: 7 });
  t.same(result, { type: 'closeSession', sessionId: 7, deleted: ['/services/a', '/services/b0000000001'] });
  t.same(r.tree.getChildren('/services').children, ['c'], "the other session's ephemeral stays");
  t.equal(r.tree.hasSession(7), false);
  t.same(r.tree.sessionEphemerals(7), []);
  t.same(
    events.map((event) => [event.type, event.path]),
    [
      ['NodeDeleted', '/services/a'],
      ['NodeChildrenChanged', '/services'],
    ],
  );
  t.equal(r.tree.exists('/services')?.cversion, 5, '3 creates + 2 deletes');
});

t.test('a closed session cannot create ephemerals', async (t) => {
  const r = new ReplicaHarness();
  r.openSession(7);
  r.write({ op: 'closeSession', sessionId: 7 });
  t.throws(() => r.create('/e', '', 'ephemeral', 7), { code: 'SESSION_EXPIRED' });
});

t.test('closing an unknown session with no ephemerals is SESSION_EXPIRED', async (t) => {
  const r = new ReplicaHarness();
  t.throws(() => r.write({ op: 'closeSession', sessionId: 99 }), { code: 'SESSION_EXPIRED' });
});

t.test('a session not heard from for longer than its timeout is expired', async (t) => {
  const r = new ReplicaHarness();
  r.now_ms = 0;
  r.openSession(7, 1_000);
  r.openSession(8, 1_000);
  r.tree.touchSession(8, 900);
  t.same(r.tree.expiredSessions(1_000), [], 'exactly at the timeout it still lives');
  t.same(r.tree.expiredSessions(1_001), [7]);
  t.same(r.tree.expiredSessions(1_901), [7, 8]);
});

t.test('touchSession of an unknown session answers false', async (t) => {
  const r = new ReplicaHarness();
  t.equal(r.tree.touchSession(42, 0), false);
});

t.test('a new leader gives every session a full timeout from now', async (t) => {
  const r = new ReplicaHarness();
  r.now_ms = 0;
  r.openSession(7, 1_000);
  r.tree.restartSessionLiveness(50_000);
  t.same(r.tree.expiredSessions(50_500), []);
  t.same(r.tree.expiredSessions(51_001), [7]);
});

t.test('sessions restored from a snapshot do not expire before liveness restarts', async (t) => {
  const r = new ReplicaHarness();
  r.now_ms = 0;
  r.openSession(7, 1_000);
  const chunks = [...r.tree.serialise()];
  const copy = new ReplicaHarness();
  copy.tree.restore(chunks);
  t.equal(copy.tree.hasSession(7), true);
  t.same(copy.tree.expiredSessions(1_000_000), []);
  copy.tree.restartSessionLiveness(1_000_000);
  t.same(copy.tree.expiredSessions(1_001_001), [7]);
});

t.test('closeSession prepared before a pending ephemeral create is applied deletes it too', async (t) => {
  const r = new ReplicaHarness();
  r.openSession(7);
  r.create('/p');
  const create = r.preparer.prepare(
    { op: 'create', path: '/p/e', data: bytes(''), mode: 'ephemeral' },
    { zxid: r.zxid + 1, sessionId: 7, now_ms: r.now_ms },
  );
  const close = r.preparer.prepare({ op: 'closeSession', sessionId: 7 }, { zxid: r.zxid + 2, sessionId: 7, now_ms: r.now_ms });
  t.same(close, { type: 'closeSession', sessionId: 7, paths: ['/p/e'] });
  t.throws(
    () =>
      r.preparer.prepare(
        { op: 'create', path: '/p/f', data: bytes(''), mode: 'ephemeral' },
        { zxid: r.zxid + 3, sessionId: 7, now_ms: r.now_ms },
      ),
    { code: 'SESSION_EXPIRED' },
    'the session is closing',
  );
  r.commit(create, r.zxid + 1);
  r.commit(close, r.zxid + 2);
  t.equal(r.tree.exists('/p/e'), null);
});

t.test('with external sessions an ephemeral needs no local session and closeSession drops it', async (t) => {
  const r = new ReplicaHarness({ hierarchy: 'implicit', sessionScope: 'external' });
  r.create('/locks/l-', '', 'ephemeral_sequential', 1234);
  t.same(r.tree.ephemeralOwners(), [1234]);
  const { result } = r.write({ op: 'closeSession', sessionId: 1234 });
  t.same(result, { type: 'closeSession', sessionId: 1234, deleted: ['/locks/l-0000000000'] });
  t.same(r.tree.ephemeralOwners(), []);
});

t.test('a container with no children yet is kept; once emptied it is to be deleted', async (t) => {
  const r = new ReplicaHarness();
  r.create('/c', '', 'container');
  t.same(r.tree.containersToDelete(), []);
  r.create('/c/child');
  t.same(r.tree.containersToDelete(), []);
  r.delete('/c/child');
  t.same(r.tree.containersToDelete(), ['/c']);
  r.write({ op: 'reap', path: '/c' });
  t.equal(r.tree.exists('/c'), null);
  t.same(r.tree.containersToDelete(), []);
});

t.test('reaping a container that got a child again is refused', async (t) => {
  const r = new ReplicaHarness();
  r.create('/c', '', 'container');
  r.delete(r.create('/c/x'));
  t.same(r.tree.containersToDelete(), ['/c']);
  r.create('/c/y');
  t.throws(() => r.write({ op: 'reap', path: '/c' }), { code: 'BAD_ARGUMENTS' });
  t.throws(() => r.write({ op: 'reap', path: '/c/y' }), { code: 'BAD_ARGUMENTS' }, 'not a container');
});

t.test('a TTL node expires after its TTL without modification and without children', async (t) => {
  const r = new ReplicaHarness();
  r.now_ms = 1_000;
  r.create('/t', '', 'persistent_with_ttl', 0, 500);
  t.same(r.tree.expiredTtlNodes(1_500), []);
  t.same(r.tree.expiredTtlNodes(1_501), ['/t']);
  r.now_ms = 1_400;
  r.setData('/t', 'touch');
  t.same(r.tree.expiredTtlNodes(1_501), [], 'a setData restarts the TTL');
  r.create('/t/child');
  t.same(r.tree.expiredTtlNodes(10_000), [], 'a TTL node with children stays');
  r.delete('/t/child');
  r.now_ms = 10_000;
  r.write({ op: 'reap', path: '/t' });
  t.equal(r.tree.exists('/t'), null);
});

t.test('reaping a TTL node before it expires is refused', async (t) => {
  const r = new ReplicaHarness();
  r.create('/t', '', 'persistent_with_ttl', 0, 500);
  t.throws(() => r.write({ op: 'reap', path: '/t' }), { code: 'BAD_ARGUMENTS' });
  t.ok(r.tree.exists('/t'));
});
