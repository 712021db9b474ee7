/**
 * Watches and sessions of the meta ensemble, 3 replica processes over a real nats-server:
 * one-shot data, child and exists watches fire once; persistent-recursive watches fire for every
 * descendant change; one client's events arrive in zxid order; ephemerals vanish when their
 * session expires or closes, and stay while the session is kept alive.
 */
import t from 'tap';
import type { MetaClient } from '../../meta/meta-client.js';
import type { WatchNotification } from '../../protocol/meta.js';
import { MetaCluster } from '../support/meta-cluster.js';
import { waitFor } from '../support/wait.js';

const text = (value: string) => new TextEncoder().encode(value);

const cluster = await MetaCluster.start();
t.teardown(() => cluster.stopAll({ keepLogs: !t.passing() }));
const writer = await cluster.client();

/** A client that records its watch events, and a marker: a later watched change, proof that earlier events are all in. */
async function watchingClient(): Promise<{ client: MetaClient; events: WatchNotification[]; marker: (name: string) => Promise<void> }> {
  const client = await cluster.client();
  const events: WatchNotification[] = [];
  client.onWatchEvent((event) => events.push(event));
  const marker = async (path: string) => {
    await client.exists(path, { watch: true });
    await writer.create(path, text(''));
    await waitFor(`the marker event of ${path}`, () => events.some((event) => event.path === path && event.type === 'NodeCreated'), 10_000);
  };
  return { client, events, marker };
}

const eventsOf = (events: WatchNotification[], path: string) => events.filter((event) => event.path === path).map((event) => event.type);

await writer.create('/w', text(''));

t.test('a data watch fires NodeDataChanged once for two quick sets (one-shot)', async (t) => {
  const { client, events, marker } = await watchingClient();
  await writer.create('/w/data', text('0'));
  await client.getData('/w/data', { watch: true });
  const first = writer.setData('/w/data', text('1'));
  const second = writer.setData('/w/data', text('2'));
  const [stat1] = await Promise.all([first, second]);
  await marker('/w/data-marker');
  t.same(eventsOf(events, '/w/data'), ['NodeDataChanged'], 'one event for two sets');
  t.equal(events.find((event) => event.path === '/w/data')?.zxid, stat1.mzxid, 'the event is the first set');
});

t.test('a child watch fires NodeChildrenChanged once', async (t) => {
  const { client, events, marker } = await watchingClient();
  await writer.create('/w/dir', text(''));
  const { children } = await client.getChildren('/w/dir', { watch: true });
  t.same(children, []);
  await writer.create('/w/dir/a', text(''));
  await writer.create('/w/dir/b', text(''));
  await writer.setData('/w/dir', text('own data change: not a child event'));
  await marker('/w/dir-marker');
  t.same(eventsOf(events, '/w/dir'), ['NodeChildrenChanged'], 'one child event for two child creates, none for own data');
});

t.test('an exists watch on a missing node fires NodeCreated', async (t) => {
  const { client, events, marker } = await watchingClient();
  t.equal(await client.exists('/w/later', { watch: true }), null);
  const created = await writer.create('/w/later', text('here'));
  await writer.setData('/w/later', text('changed'));
  await marker('/w/later-marker');
  t.same(eventsOf(events, '/w/later'), ['NodeCreated'], 'NodeCreated once, the later set does not fire the used watch');
  t.equal(events.find((event) => event.path === '/w/later')?.zxid, created.stat.czxid);
});

t.test('a persistent-recursive watch fires for every descendant change, in zxid order', async (t) => {
  const { client, events } = await watchingClient();
  await writer.create('/w/tree', text(''));
  await client.addWatch('/w/tree', 'persistent_recursive');
  await writer.create('/w/tree/a', text(''));
  await writer.create('/w/tree/a/b', text(''));
  await writer.setData('/w/tree/a', text('x'));
  await writer.setData('/w/tree/a/b', text('y'));
  await writer.delete('/w/tree/a/b');
  await writer.setData('/w/tree', text('root'));
  await waitFor('six recursive events', () => events.length >= 6, 10_000);
  t.same(events.map((event) => `${event.type} ${event.path}`), [
    'NodeCreated /w/tree/a',
    'NodeCreated /w/tree/a/b',
    'NodeDataChanged /w/tree/a',
    'NodeDataChanged /w/tree/a/b',
    'NodeDeleted /w/tree/a/b',
    'NodeDataChanged /w/tree',
  ], 'every change under the watched path, no child events (recursive watches have none)');
  t.ok(events.every((event, i) => i === 0 || event.zxid > (events[i - 1] as WatchNotification).zxid), 'zxids increase');
  // Persistent: still there after it fired.
  await writer.create('/w/tree/c', text(''));
  await waitFor('a seventh event', () => events.length >= 7, 10_000);
  t.equal(`${events[6]?.type} ${events[6]?.path}`, 'NodeCreated /w/tree/c', 'the watch stays after firing');
});

t.test('events of one client\'s watches arrive in zxid order under concurrent writers', async (t) => {
  const { client, events, marker } = await watchingClient();
  await writer.create('/w/order', text(''));
  const writers = await Promise.all([cluster.client(), cluster.client(), cluster.client()]);
  const paths = Array.from({ length: 30 }, (_, i) => `/w/order/n${i}`);
  await client.addWatch('/w/order', 'persistent_recursive');
  for (const path of paths) await client.exists(path, { watch: true });
  await Promise.all(paths.map((path, i) => (writers[i % writers.length] as MetaClient).create(path, text(String(i)))));
  await Promise.all(paths.map((path, i) => (writers[(i + 1) % writers.length] as MetaClient).setData(path, text('again'))));
  await marker('/w/order-marker');
  const under = events.filter((event) => event.path.startsWith('/w/order/'));
  // A watcher gets one notification per event even when two of its watches match (exists + recursive).
  t.equal(under.length, 30 * 2, 'per node one NodeCreated and one NodeDataChanged');
  const zxids = events.map((event) => event.zxid);
  t.ok(zxids.every((zxid, i) => i === 0 || zxid >= (zxids[i - 1] as number)), 'zxids never go back');
});

t.test('an ephemeral node vanishes when its session expires', async (t) => {
  const owner = await cluster.client();
  const session = await owner.createSession(1_000);
  const created = await owner.create('/w/ephemeral-expiring', text('alive'), 'ephemeral', { sessionId: session.sessionId });
  t.equal(created.stat.ephemeralOwner, session.sessionId, 'the ephemeral is owned by its session');
  const abandoned = Date.now();
  owner.abandonSession(session.sessionId);
  await waitFor('the ephemeral to vanish after its session expired', async () => (await writer.exists('/w/ephemeral-expiring')) === null, 8_000, 50);
  const gone_ms = Date.now() - abandoned;
  t.comment(`ephemeral gone ${gone_ms} ms after the last keepalive stopped (session timeout ${session.timeout_ms} ms)`);
  t.ok(gone_ms >= session.timeout_ms / 2, 'not before the session could have expired');
  await t.rejects(owner.closeSession(session.sessionId), { code: 'SESSION_EXPIRED' }, 'the session is gone');
});

t.test('closeSession removes the session\'s ephemerals at once', async (t) => {
  const owner = await cluster.client();
  const session = await owner.createSession(30_000);
  await owner.create('/w/ephemeral-closed', text(''), 'ephemeral', { sessionId: session.sessionId });
  const seq = await owner.create('/w/ephemeral-seq-', text(''), 'ephemeral_sequential', { sessionId: session.sessionId });
  t.not(await writer.exists('/w/ephemeral-closed'), null);
  await owner.closeSession(session.sessionId);
  t.equal(await writer.exists('/w/ephemeral-closed'), null, 'the ephemeral is gone when closeSession returns');
  t.equal(await writer.exists(seq.path), null, 'the ephemeral sequential node too');
});

t.test('a session kept alive survives well past its timeout', async (t) => {
  const owner = await cluster.client();
  // 1.5 s: keepalives every 0.5 s, so a loaded machine's late timer does not expire it.
  const session = await owner.createSession(1_500);
  await owner.create('/w/ephemeral-kept', text(''), 'ephemeral', { sessionId: session.sessionId });
  const start = Date.now();
  await waitFor('three session timeouts to pass', () => Date.now() > start + 3 * session.timeout_ms, 3 * session.timeout_ms + 5_000, 100);
  const stat = await writer.exists('/w/ephemeral-kept');
  t.not(stat, null, 'the ephemeral of a kept-alive session is still there');
  t.equal(stat?.ephemeralOwner, session.sessionId);
  await owner.closeSession(session.sessionId);
});
