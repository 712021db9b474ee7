import t from 'tap';
import { waitFor } from '../support/wait.js';
import { nextWithin, startLiveRouter } from './live-router.js';

// 2 s rather than ZooKeeper-small timeouts: on a loaded 2-core machine the event loop can stall
// for most of a second, and a keepalive test must not fail on that.
t.test('keepalives keep a 2 s session alive past 6 s', async (t) => {
  const { client, backend } = await startLiveRouter(t);
  const started_ms = Date.now();
  const session = await client.session({ timeout_ms: 2000 });
  t.teardown(() => session.close());
  await session.create('/alive/e1', 'x');
  // A keepalive every 667 ms: the tenth comes after about 6.7 s.
  await waitFor('ten keepalives', () => session.keepalives >= 10, 20_000);
  t.ok(Date.now() - started_ms > 6000, 'more than 3 timeouts passed');
  t.equal(session.state, 'open');
  t.ok(backend.tree.hasSession(Number(session.id)), 'the router still has the session');
  t.equal((await client.get('/alive/e1')).text, 'x', 'its ephemeral is still there');
});

t.test('a session without keepalives expires (the control for the keepalive test)', async (t) => {
  const { url, client, backend } = await startLiveRouter(t);
  const opened = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"timeout_ms": 300}' });
  const { id } = (await opened.json()) as { id: string };
  await client.create('/short/e1', 'x', { mode: 'ephemeral', session: id });
  await waitFor('the session to expire', () => !backend.tree.hasSession(Number(id)), 5000);
  t.equal(await client.exists('/short/e1'), null, 'its ephemeral went with it');
});

t.test('close() ends the session on the router and stops the keepalives', async (t) => {
  const { client, backend } = await startLiveRouter(t);
  const session = await client.session({ timeout_ms: 300 });
  await session.create('/closing/e1');
  await session.close();
  t.equal(session.state, 'closed');
  t.notOk(backend.tree.hasSession(Number(session.id)));
  t.equal(await client.exists('/closing/e1'), null);
  const keepalivesAtClose = backend.callCount('keepalive');
  // Another session's keepalives are the clock: three of them, and none from the closed one.
  const other = await client.session({ timeout_ms: 300 });
  t.teardown(() => other.close());
  await waitFor('three keepalives of another session', () => other.keepalives >= 3, 5000);
  t.equal(backend.callCount('keepalive') - keepalivesAtClose, other.keepalives);
});

t.test('a session the router has dropped turns expired', async (t) => {
  const { url, client } = await startLiveRouter(t);
  const session = await client.session({ timeout_ms: 600 });
  const states: string[] = [];
  session.onStateChange = (state) => states.push(state);
  await fetch(`${url}/v1/sessions/${session.id}`, { method: 'DELETE' });
  await waitFor('the session to turn expired', () => session.state === 'expired', 5000);
  t.same(states, ['expired']);
});

t.test('a data watch arrives on the session event iterator', async (t) => {
  const { client } = await startLiveRouter(t);
  const session = await client.session({ timeout_ms: 5000 });
  t.teardown(() => session.close());
  await client.create('/cfg', 'v1');
  const events = await session.events();
  const iterator = events[Symbol.asyncIterator]();
  const read = await session.getData('/cfg', { watch: true });
  t.equal(read.text, 'v1');
  await client.set('/cfg', 'v2');
  const first = await nextWithin(iterator, 5000, 'the data watch');
  t.same(first.value, { type: 'NodeDataChanged', path: '/cfg', zxid: first.value?.zxid });
  // One-shot: the next event is the exists watch's, not a second change of /cfg.
  await client.set('/cfg', 'v3');
  t.equal(await session.exists('/new', { watch: true }), null);
  await client.create('/new');
  const second = await nextWithin(iterator, 5000, 'the exists watch');
  t.match(second.value, { type: 'NodeCreated', path: '/new' });
  events.close();
  t.equal((await nextWithin(iterator, 5000, 'the end of the stream')).done, true);
});

t.test('a child watch through a for-await loop', async (t) => {
  const { client } = await startLiveRouter(t);
  const session = await client.session({ timeout_ms: 5000 });
  t.teardown(() => session.close());
  const events = await session.events();
  await session.children('/workers', { watch: true });
  await client.create('/workers/w1');
  const seen: string[] = [];
  for await (const event of events) {
    seen.push(`${event.type} ${event.path}`);
    break;
  }
  t.same(seen, ['NodeChildrenChanged /workers']);
});

t.test('the event iterator ends when the session is closed', async (t) => {
  const { client } = await startLiveRouter(t);
  const session = await client.session({ timeout_ms: 5000 });
  const events = await session.events();
  const iterator = events[Symbol.asyncIterator]();
  const pending = nextWithin(iterator, 5000, 'the end of the stream');
  await session.close();
  t.equal((await pending).done, true);
});
