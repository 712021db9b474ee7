/**
 * Two stateless routers in front of a real multi-process cluster: kill -9 of one loses nothing
 * (data and sessions live in the groups, so the other router serves them), and bad input on
 * the HTTP API is a clear 4xx JSON {code, message} that leaves the router serving.
 */
import t, { type Test } from 'tap';
import { placementKey } from '../../ring/index.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';
import { RouterCalls, type Answer } from './router-calls.js';

// Eleven processes start slowly on a loaded 2-core machine: more room than .taprc's 120 s.
t.setTimeout(240_000);
const cluster = await ProcessCluster.startFor(t, { routers: 2 });
const first = new RouterCalls(cluster.routerUrl('router-1'));
const second = new RouterCalls(cluster.routerUrl('router-2'));

t.test('after kill -9 of one router, the other serves every node and session made through it', async (t) => {
  const paths = Array.from({ length: 30 }, (_, i) => `/failover/dir-${i % 10}/node-${i}`);
  for (const path of paths) t.equal((await first.create(path, `v:${path}`)).status, 201);
  const sessionId = await first.openSession(60_000);
  const ring = await cluster.ring('router-2');
  const ephemerals: string[] = [];
  const groupsSeen = new Set<string>();
  for (let i = 0; i < 32 && groupsSeen.size < cluster.groups.length; i++) {
    const path = `/failover/eph-${i}/owner`;
    const group = ring.ownerOf(placementKey(path));
    if (groupsSeen.has(group)) continue;
    groupsSeen.add(group);
    t.equal((await first.create(path, 'e', `mode=ephemeral&session=${sessionId}`)).status, 201);
    ephemerals.push(path);
  }
  t.equal(groupsSeen.size, cluster.groups.length, 'ephemerals on every group');

  await cluster.kill('router-1');
  // Asserted on the process, not by a request to its port: once freed, the port can be taken by
  // a server of a test file running in parallel.
  t.notOk(cluster.isRunning('router-1'), 'router-1 is gone');

  let intact = 0;
  for (const path of paths) {
    const read = await second.get(path);
    if (read.status === 200 && read.body.data === `v:${path}`) intact++;
  }
  t.equal(intact, paths.length, 'every node written through router-1 reads back through router-2');
  t.equal((await second.keepalive(sessionId)).status, 204, 'the session opened through router-1 is alive through router-2');
  for (const path of ephemerals) {
    const read = await second.get(path);
    t.equal(read.body.stat?.ephemeralOwner, Number(sessionId), `${path} is still owned by the session`);
  }
  t.equal((await second.create('/failover/eph-late/owner', 'e', `mode=ephemeral&session=${sessionId}`)).status, 201,
    'router-2 creates ephemerals for the session');
  t.equal((await second.closeSession(sessionId)).status, 204);
  await waitFor('the session\'s ephemerals to vanish', async () => {
    for (const path of [...ephemerals, '/failover/eph-late/owner']) if ((await second.get(path)).status !== 404) return false;
    return true;
  }, 30_000, 50);

  cluster.start('router-1');
  await cluster.routerReady('router-1', 60_000);
  t.equal((await first.get(paths[1] as string)).body.data, `v:${paths[1]}`, 'a restarted router-1 serves again');
});

function expectError(t: Test, reply: Answer<{ code?: string; message?: string }>, status: number, code: string, what: string): void {
  t.equal(reply.status, status, `${what}: status ${status}`);
  t.equal(reply.body.code, code, `${what}: code ${code}`);
  t.ok(typeof reply.body.message === 'string' && reply.body.message.length > 0, `${what}: has a message`);
}

t.test('bad paths are 400 BAD_PATH', async (t) => {
  expectError(t, await second.raw('GET', '/v1/nodes/a/../b'), 400, 'BAD_PATH', '..');
  expectError(t, await second.raw('GET', '/v1/nodes/a/./b'), 400, 'BAD_PATH', '.');
  expectError(t, await second.raw('GET', '/v1/nodes/a//b'), 400, 'BAD_PATH', '//');
  expectError(t, await second.raw('POST', '/v1/nodes/a/b/', 'x'), 400, 'BAD_PATH', 'trailing slash');
  expectError(t, await second.raw('GET', '/v1/nodes/a%00b'), 400, 'BAD_PATH', 'NUL');
  expectError(t, await second.raw('POST', `/v1/nodes/${'x'.repeat(4097)}`, 'x'), 400, 'BAD_PATH', 'path over 4 KiB');
  // Past Node's 16 KiB request-head limit the HTTP parser answers 431 before the router sees it.
  const huge = await second.raw('GET', `/v1/nodes/${'y'.repeat(20_000)}`);
  t.equal(huge.status, 431, 'a 20 000-character URL is 431 from the HTTP parser');
});

t.test('bad versions are 400 BAD_ARGUMENTS', async (t) => {
  t.equal((await second.create('/bad/version/node', 'x')).status, 201);
  for (const version of ['abc', '1.5', '', '-5']) {
    expectError(t, await second.set('/bad/version/node', 'y', `version=${version}`), 400, 'BAD_ARGUMENTS', `PUT version=${version}`);
  }
  expectError(t, await second.raw('DELETE', '/v1/nodes/bad/version/node?version=x'), 400, 'BAD_ARGUMENTS', 'DELETE version=x');
  expectError(t, await second.set('/bad/version/node', 'y', 'version=7'), 409, 'BAD_VERSION', 'a wrong but well-formed version');
});

t.test('data over 1 MiB is 413 DATA_TOO_LARGE', async (t) => {
  const over = 'z'.repeat(1024 * 1024 + 1);
  expectError(t, await second.create('/bad/size/just-over', over), 413, 'DATA_TOO_LARGE', '1 MiB + 1 byte');
  expectError(t, await second.create('/bad/size/far-over', over + over), 413, 'DATA_TOO_LARGE', '2 MiB');
  t.equal((await second.create('/bad/size/exactly', 'z'.repeat(1024 * 1024))).status, 201, 'exactly 1 MiB is accepted');
});

t.test('malformed JSON bodies are 400 BAD_ARGUMENTS', async (t) => {
  expectError(t, await second.json('POST', '/v1/multi', '{"ops": ['), 400, 'BAD_ARGUMENTS', 'multi, truncated JSON');
  expectError(t, await second.json('POST', '/v1/multi', '{"ops": "nope"}'), 400, 'BAD_ARGUMENTS', 'multi, ops not an array');
  expectError(t, await second.json('POST', '/v1/multi', '{"ops":[{"op":"explode","path":"/a/b"}]}'), 400, 'BAD_ARGUMENTS', 'multi, unknown op');
  expectError(t, await second.json('POST', '/v1/sessions', '{timeoutMs: 5000'), 400, 'BAD_ARGUMENTS', 'sessions, malformed JSON');
  expectError(t, await second.json('POST', '/v1/sessions', '{"timeoutMs": "soon"}'), 400, 'BAD_ARGUMENTS', 'sessions, timeout not a number');
  expectError(t, await second.json('POST', '/v1/sessions', '{}'), 400, 'BAD_ARGUMENTS', 'sessions, no timeout');
});

t.test('an unknown session is 404 SESSION_EXPIRED, a malformed id 400', async (t) => {
  expectError(t, await second.keepalive('123456789'), 404, 'SESSION_EXPIRED', 'keepalive');
  expectError(t, await second.closeSession('123456789'), 404, 'SESSION_EXPIRED', 'close');
  expectError(t, await second.raw('GET', '/v1/sessions/123456789/events'), 404, 'SESSION_EXPIRED', 'event stream');
  expectError(t, await second.create('/bad/session/eph', 'x', 'mode=ephemeral&session=123456789'), 404, 'SESSION_EXPIRED', 'ephemeral create');
  expectError(t, await second.keepalive('not-a-number'), 400, 'BAD_ARGUMENTS', 'malformed id');
});

t.test('a multi over directories of both groups is 400 CROSS_SHARD_MULTI', async (t) => {
  const ring = await cluster.ring('router-2');
  const byGroup = new Map<string, string>();
  for (let i = 0; i < 64 && byGroup.size < cluster.groups.length; i++) {
    const path = `/bad/multi-${i}/node`;
    const group = ring.ownerOf(placementKey(path));
    if (!byGroup.has(group)) byGroup.set(group, path);
  }
  const ops = [...byGroup.values()].map((path) => ({ op: 'create', path, data: 'x' }));
  expectError(t, await second.json('POST', '/v1/multi', JSON.stringify({ ops })), 400, 'CROSS_SHARD_MULTI', 'cross-group multi');
  for (const path of byGroup.values()) t.equal((await second.get(path)).status, 404, `${path} was not created`);
});

t.test('the router still serves after all the bad input', async (t) => {
  const health = await fetch(`${cluster.routerUrl('router-2')}/healthz`);
  t.equal(health.status, 200);
  t.equal((await second.create('/bad/after/ok', 'fine')).status, 201);
  t.equal((await second.get('/bad/after/ok')).body.data, 'fine');
  t.ok(cluster.isRunning('router-2'), 'router-2 is still running');
});
