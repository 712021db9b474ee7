import t from 'tap';
import { ShardkvClient, ShardkvClientError } from '../../client/index.js';
import { startLiveRouter } from './live-router.js';

async function rejection(promise: Promise<unknown>): Promise<ShardkvClientError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ShardkvClientError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

t.test('create, get, set, exists, children and delete round-trip through the router', async (t) => {
  const { client } = await startLiveRouter(t);
  const created = await client.create('/app/config', 'v1');
  t.equal(created.path, '/app/config');
  const read = await client.get('/app/config');
  t.equal(read.text, 'v1');
  t.same([...read.data], [...Buffer.from('v1')]);
  t.equal(read.stat.version, 0);
  const set = await client.set('/app/config', 'v2', { version: 0 });
  t.equal(set.stat.version, 1);
  t.equal((await client.exists('/app/config'))?.version, 1);
  t.same((await client.children('/app')).children, ['config']);
  await client.delete('/app/config', { version: 1 });
  t.equal(await client.exists('/app/config'), null);
});

t.test('binary data round-trips as bytes', async (t) => {
  const { client } = await startLiveRouter(t);
  const bytes = new Uint8Array([0, 255, 128, 10, 13]);
  await client.create('/bin', bytes);
  const read = await client.get('/bin');
  t.same([...read.data], [...bytes]);
  t.equal(read.text, null);
});

t.test('paths with spaces and unicode are encoded into the URL', async (t) => {
  const { client } = await startLiveRouter(t);
  const created = await client.create('/dir/a b/€ 100%', 'x');
  t.equal(created.path, '/dir/a b/€ 100%');
  t.equal((await client.get('/dir/a b/€ 100%')).text, 'x');
  t.same((await client.children('/dir/a b')).children, ['€ 100%']);
});

t.test('sequential creates answer their suffixed paths', async (t) => {
  const { client } = await startLiveRouter(t);
  const first = await client.create('/q/job-', 'a', { mode: 'sequential' });
  const second = await client.create('/q/job-', 'b', { mode: 'sequential' });
  t.equal(first.path, '/q/job-0000000000');
  t.equal(second.path, '/q/job-0000000001');
});

t.test('server errors are ShardkvClientError with code, status and message', async (t) => {
  const { client } = await startLiveRouter(t);
  await client.create('/dup');
  const exists = await rejection(client.create('/dup'));
  t.equal(exists.code, 'NODE_EXISTS');
  t.equal(exists.status, 409);
  t.match(exists.message, /\/dup/);
  const missing = await rejection(client.get('/nothing'));
  t.equal(missing.code, 'NO_NODE');
  t.equal(missing.status, 404);
  const version = await rejection(client.set('/dup', 'x', { version: 7 }));
  t.equal(version.code, 'BAD_VERSION');
});

t.test('a relative path is refused before any request', async (t) => {
  const { client, backend } = await startLiveRouter(t);
  const error = await rejection(client.get('/a/../b'));
  t.equal(error.code, 'BAD_PATH');
  t.equal(backend.callCount('get'), 0);
});

t.test('an unreachable router is CONNECTION_LOSS with status 0', async (t) => {
  const client = new ShardkvClient({ url: 'http://127.0.0.1:1', timeout_ms: 2000 });
  const error = await rejection(client.get('/a'));
  t.equal(error.code, 'CONNECTION_LOSS');
  t.equal(error.status, 0);
});

t.test('multi applies all ops or reports the failing one', async (t) => {
  const { client } = await startLiveRouter(t);
  const results = await client.multi([
    { op: 'create', path: '/m/a', data: 'a' },
    { op: 'create', path: '/m/b', data: new Uint8Array([1, 2, 255]) },
    { op: 'set', path: '/m/a', data: 'a2', version: 0 },
    { op: 'check', path: '/m/b', version: 0 },
  ]);
  t.same(results.map((r) => r.op), ['create', 'create', 'set', 'check']);
  t.same([...(await client.get('/m/b')).data], [1, 2, 255]);
  const failed = await rejection(client.multi([{ op: 'delete', path: '/m/a' }, { op: 'delete', path: '/m/none' }]));
  t.equal(failed.code, 'MULTI_FAILED');
  t.equal(failed.details?.failedIndex, 1);
  t.equal((await client.get('/m/a')).text, 'a2', 'the first delete was not applied');
});

t.test('ring, groups, meta and health', async (t) => {
  const { client, backend } = await startLiveRouter(t);
  const ring = await client.ring();
  t.equal(ring.groups.length, 2);
  t.equal(ring.tokens.length, 8);
  t.same((await client.groups()).map((g) => g.id), ['g1', 'g2']);
  t.same((await client.meta('/groups')).children, ['g1', 'g2']);
  t.equal((await client.health()).status, 'ok');
  backend.healthStatus = 'down';
  t.equal((await client.health()).status, 'down', 'a 503 health answer is a value, not an error');
});
