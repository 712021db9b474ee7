import t from 'tap';
import { openSession, startHarness } from './harness.js';

t.test('POST /v1/nodes creates a node and answers 201 with its path and stat', async (t) => {
  const { app } = await startHarness(t);
  const response = await app.inject({ method: 'POST', url: '/v1/nodes/config/db', payload: 'hello', headers: { 'content-type': 'text/plain' } });
  t.equal(response.statusCode, 201);
  const body = response.json();
  t.equal(body.path, '/config/db');
  t.equal(body.stat.version, 0);
  t.equal(body.stat.dataLength, 5);
  t.ok(body.stat.czxid > 0);
});

t.test('POST with mode=sequential answers the created path with its sequence suffix', async (t) => {
  const { app } = await startHarness(t);
  const first = await app.inject({ method: 'POST', url: '/v1/nodes/q/item-?mode=sequential' });
  const second = await app.inject({ method: 'POST', url: '/v1/nodes/q/item-?mode=sequential' });
  t.equal(first.statusCode, 201);
  t.equal(first.json().path, '/q/item-0000000000');
  t.equal(second.json().path, '/q/item-0000000001');
});

t.test('POST of an existing node answers 409 NODE_EXISTS', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/a' });
  const response = await app.inject({ method: 'POST', url: '/v1/nodes/a' });
  t.equal(response.statusCode, 409);
  t.equal(response.json().code, 'NODE_EXISTS');
  t.match(response.json().message, /\/a/);
});

t.test('a JSON body is stored as raw bytes, not parsed', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/j', payload: '{"a": 1}', headers: { 'content-type': 'application/json' } });
  const response = await app.inject({ url: '/v1/nodes/j' });
  t.equal(response.json().data, '{"a": 1}');
});

t.test('GET /v1/nodes answers data, encoding utf8 and stat', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/greeting', payload: 'héllo', headers: { 'content-type': 'text/plain; charset=utf-8' } });
  const response = await app.inject({ url: '/v1/nodes/greeting?consistency=stale' });
  t.equal(response.statusCode, 200);
  t.same(response.json(), { path: '/greeting', data: 'héllo', encoding: 'utf8', stat: response.json().stat });
  t.equal(response.json().stat.dataLength, Buffer.byteLength('héllo'));
});

t.test('binary data round-trips as base64', async (t) => {
  const { app } = await startHarness(t);
  const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x41]);
  await app.inject({ method: 'POST', url: '/v1/nodes/bin', payload: bytes, headers: { 'content-type': 'application/octet-stream' } });
  const response = await app.inject({ url: '/v1/nodes/bin' });
  t.equal(response.json().encoding, 'base64');
  t.same([...Buffer.from(response.json().data, 'base64')], [...bytes]);
});

t.test('GET of a missing node answers 404 NO_NODE', async (t) => {
  const { app } = await startHarness(t);
  const response = await app.inject({ url: '/v1/nodes/missing' });
  t.equal(response.statusCode, 404);
  t.equal(response.json().code, 'NO_NODE');
});

t.test('HEAD /v1/nodes answers 200 for a node and 404 for none', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/h' });
  t.equal((await app.inject({ method: 'HEAD', url: '/v1/nodes/h' })).statusCode, 200);
  t.equal((await app.inject({ method: 'HEAD', url: '/v1/nodes/nope' })).statusCode, 404);
});

t.test('PUT sets data with a version check: 200 then 409 BAD_VERSION on a stale version', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/v', payload: 'one' });
  const set = await app.inject({ method: 'PUT', url: '/v1/nodes/v?version=0', payload: 'two' });
  t.equal(set.statusCode, 200);
  t.equal(set.json().path, '/v');
  t.equal(set.json().stat.version, 1);
  const stale = await app.inject({ method: 'PUT', url: '/v1/nodes/v?version=0', payload: 'three' });
  t.equal(stale.statusCode, 409);
  t.equal(stale.json().code, 'BAD_VERSION');
  t.equal((await app.inject({ url: '/v1/nodes/v' })).json().data, 'two');
});

t.test('PUT without a version sets whatever the version', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/v' });
  await app.inject({ method: 'PUT', url: '/v1/nodes/v', payload: 'x' });
  const response = await app.inject({ method: 'PUT', url: '/v1/nodes/v', payload: 'y' });
  t.equal(response.json().stat.version, 2);
});

t.test('DELETE answers 204, then the node is gone; a wrong version is 409', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/d' });
  const wrong = await app.inject({ method: 'DELETE', url: '/v1/nodes/d?version=3' });
  t.equal(wrong.statusCode, 409);
  t.equal(wrong.json().code, 'BAD_VERSION');
  const deleted = await app.inject({ method: 'DELETE', url: '/v1/nodes/d?version=0' });
  t.equal(deleted.statusCode, 204);
  t.equal(deleted.body, '');
  t.equal((await app.inject({ url: '/v1/nodes/d' })).statusCode, 404);
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/nodes/d' })).statusCode, 404);
});

t.test('GET /v1/exists answers the stat, or null for a missing node', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/e' });
  const present = await app.inject({ url: '/v1/exists/e' });
  t.equal(present.statusCode, 200);
  t.equal(present.json().stat.version, 0);
  const missing = await app.inject({ url: '/v1/exists/none' });
  t.equal(missing.statusCode, 200);
  t.same(missing.json(), { path: '/none', stat: null });
});

t.test('GET /v1/children lists the children sorted; an unused directory is empty', async (t) => {
  const { app } = await startHarness(t);
  for (const name of ['b', 'a', 'c']) await app.inject({ method: 'POST', url: `/v1/nodes/dir/${name}` });
  const response = await app.inject({ url: '/v1/children/dir' });
  t.equal(response.statusCode, 200);
  t.same(response.json().children, ['a', 'b', 'c']);
  t.equal(response.json().path, '/dir');
  t.equal(response.json().stat, null, 'implicit parent: no node at /dir');
  const empty = await app.inject({ url: '/v1/children/unused' });
  t.same(empty.json().children, []);
});

t.test('GET /v1/children/ lists the top directory', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/top' });
  const response = await app.inject({ url: '/v1/children/' });
  t.equal(response.json().path, '/');
  t.same(response.json().children, ['top']);
});

t.test('an ephemeral node needs a session and goes when the session closes', async (t) => {
  const { app } = await startHarness(t);
  const id = await openSession(app);
  const created = await app.inject({ method: 'POST', url: `/v1/nodes/live/e1?mode=ephemeral&session=${id}` });
  t.equal(created.statusCode, 201);
  t.equal(created.json().stat.ephemeralOwner, Number(id));
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/sessions/${id}` })).statusCode, 204);
  t.equal((await app.inject({ url: '/v1/nodes/live/e1' })).statusCode, 404);
});

t.test('a ttl node is created with mode=ttl and ttl=<ms>', async (t) => {
  const { app, backend } = await startHarness(t);
  const response = await app.inject({ method: 'POST', url: '/v1/nodes/t1?mode=ttl&ttl=60000' });
  t.equal(response.statusCode, 201);
  t.equal(backend.tree.dump().nodes.find((node) => node.path === '/t1')?.ttl_ms, 60000);
});

t.test('POST /v1/multi applies all ops and answers a result per op', async (t) => {
  const { app } = await startHarness(t);
  await app.inject({ method: 'POST', url: '/v1/nodes/m/x', payload: 'old' });
  const response = await app.inject({
    method: 'POST',
    url: '/v1/multi',
    payload: {
      ops: [
        { op: 'check', path: '/m/x', version: 0 },
        { op: 'create', path: '/m/y', data: 'AAEC', encoding: 'base64' },
        { op: 'set', path: '/m/x', data: 'new', version: 0 },
        { op: 'create', path: '/m/z', mode: 'sequential' },
        { op: 'delete', path: '/m/y' },
      ],
    },
  });
  t.equal(response.statusCode, 200);
  const results = response.json().results;
  t.same(results.map((r: { op: string }) => r.op), ['check', 'create', 'set', 'create', 'delete']);
  t.equal(results[2].stat.version, 1);
  t.equal(results[3].path, '/m/z0000000002', 'the directory counter counts /m/x and /m/y too');
  t.equal((await app.inject({ url: '/v1/nodes/m/x' })).json().data, 'new');
  t.equal((await app.inject({ url: '/v1/nodes/m/y' })).statusCode, 404);
});

t.test('a failing multi answers 409 MULTI_FAILED with details and applies nothing', async (t) => {
  const { app } = await startHarness(t);
  const response = await app.inject({
    method: 'POST',
    url: '/v1/multi',
    payload: { ops: [{ op: 'create', path: '/m/a' }, { op: 'set', path: '/m/none', data: 'x' }] },
  });
  t.equal(response.statusCode, 409);
  t.equal(response.json().code, 'MULTI_FAILED');
  t.equal(response.json().details.failedIndex, 1);
  t.equal(response.json().details.failedCode, 'NO_NODE');
  t.equal((await app.inject({ url: '/v1/nodes/m/a' })).statusCode, 404);
});

t.test('sessions: open answers 201 with a string id, keepalive and close answer 204', async (t) => {
  const { app, backend } = await startHarness(t);
  const opened = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { timeout_ms: 5000 } });
  t.equal(opened.statusCode, 201);
  const { id, timeout_ms } = opened.json();
  t.type(id, 'string');
  t.match(id, /^[1-9][0-9]*$/);
  t.equal(timeout_ms, 5000);
  t.equal((await app.inject({ method: 'POST', url: `/v1/sessions/${id}/keepalive` })).statusCode, 204);
  t.equal(backend.callCount('keepalive'), 1);
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/sessions/${id}` })).statusCode, 204);
  const after = await app.inject({ method: 'POST', url: `/v1/sessions/${id}/keepalive` });
  t.equal(after.statusCode, 404);
  t.equal(after.json().code, 'SESSION_EXPIRED');
});

t.test('POST /v1/sessions accepts timeoutMs as an alias of timeout_ms', async (t) => {
  const { app } = await startHarness(t);
  const opened = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { timeoutMs: 3000 } });
  t.equal(opened.statusCode, 201);
  t.equal(opened.json().timeout_ms, 3000);
});

t.test('GET /v1/ring answers version, groups with state and token counts, and tokens', async (t) => {
  const { app } = await startHarness(t);
  const response = await app.inject({ url: '/v1/ring' });
  t.equal(response.statusCode, 200);
  const ring = response.json();
  t.equal(ring.version, 2);
  t.same(ring.groups.map((g: { id: string }) => g.id), ['g1', 'g2']);
  t.equal(ring.groups[0].state, 'active');
  t.equal(ring.groups[0].tokenCount, 4);
  t.equal(ring.tokens.length, 8);
  t.match(ring.tokens[0].token, /^[0-9a-f]{16}$/);
});

t.test('GET /v1/groups answers members and leaders', async (t) => {
  const { app } = await startHarness(t);
  const response = await app.inject({ url: '/v1/groups' });
  t.equal(response.statusCode, 200);
  t.same(response.json().groups[0], { id: 'g1', state: 'active', members: ['r1', 'r2', 'r3'], leader: 'r1' });
  t.equal(response.json().groups[1].leader, null);
});

t.test('GET /v1/meta reads the meta tree with children', async (t) => {
  const { app } = await startHarness(t);
  const groups = await app.inject({ url: '/v1/meta/groups' });
  t.equal(groups.statusCode, 200);
  t.same(groups.json().children, ['g1', 'g2']);
  const ring = await app.inject({ url: '/v1/meta/ring' });
  t.equal(JSON.parse(ring.json().data).version, 2);
  const root = await app.inject({ url: '/v1/meta/' });
  t.same(root.json().children, ['groups', 'ring']);
  t.equal((await app.inject({ url: '/v1/meta/nope' })).statusCode, 404);
});

t.test('GET /healthz answers 200 when ok and 503 when down', async (t) => {
  const { app, backend } = await startHarness(t);
  const ok = await app.inject({ url: '/healthz' });
  t.equal(ok.statusCode, 200);
  t.equal(ok.json().status, 'ok');
  backend.healthStatus = 'down';
  const down = await app.inject({ url: '/healthz' });
  t.equal(down.statusCode, 503);
  t.equal(down.json().status, 'down');
  t.equal(down.json().checks[0].message, 'told to be down');
});

t.test('GET /metrics answers Prometheus text with request counts and the backend counters', async (t) => {
  const { app, metrics } = await startHarness(t);
  await app.inject({ url: '/v1/nodes/missing' });
  metrics.countMovedRetry('g2');
  metrics.setLeaderKnown('g1', true);
  const response = await app.inject({ url: '/metrics' });
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /text\/plain/);
  t.match(response.body, /shardkv_router_http_requests_total\{method="GET",route="\/v1\/nodes\/\*",status="404"\} 1/);
  t.match(response.body, /shardkv_router_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/v1\/nodes\/\*",status="404"\}/);
  t.match(response.body, /shardkv_router_moved_retries_total\{group="g2"\} 1/);
  t.match(response.body, /shardkv_router_group_leader_known\{group="g1"\} 1/);
});

t.test('two router instances keep separate metrics', async (t) => {
  const one = await startHarness(t);
  const two = await startHarness(t);
  await one.app.inject({ url: '/v1/ring' });
  const text = await (await two.app.inject({ url: '/metrics' })).body;
  t.notMatch(text, /route="\/v1\/ring"/);
});
