/**
 * ServiceRegistry/ServiceCache (Curator's x-discovery) and ConfigWatch (Curator's NodeCache with
 * a typed value) over a whole embedded cluster.
 */
import t from 'tap';
import { ShardkvClient } from '../../client/index.js';
import { ConfigWatch, ServiceCache, ServiceRegistry, type ServiceInstance } from '../../client/recipes/index.js';
import { startEmbeddedCluster } from '../support/embedded-cluster.js';
import { waitFor } from '../support/wait.js';
import { openCuttableSession, openSession } from './sessions.js';

const cluster = await startEmbeddedCluster(t);
const client = new ShardkvClient({ url: cluster.routerUrl, timeout_ms: 10_000 });

const ids = (instances: ServiceInstance<unknown>[]): string[] => instances.map((instance) => instance.id);

t.test('a service cache sees instances register and deregister, with their payload', async (t) => {
  const registrySession = await openSession(t, cluster.routerUrl);
  const watcherSession = await openSession(t, cluster.routerUrl);
  const registry = new ServiceRegistry(registrySession, '/services');
  await registry.register({ name: 'api', id: 'api-1', address: '10.0.0.1', port: 8080, payload: { zone: 'a' } });
  const cache = new ServiceCache<{ zone: string }>(watcherSession, '/services', 'api');
  const changes: string[][] = [];
  cache.addListener((instances) => changes.push(ids(instances)));
  await cache.start();
  t.teardown(() => cache.close());
  t.same(ids(cache.instances()), ['api-1'], 'the cache starts with the registered instance');
  t.same(cache.instances()[0]!.payload, { zone: 'a' });
  t.equal(cache.instances()[0]!.port, 8080);
  await registry.register({ name: 'api', id: 'api-2', address: '10.0.0.2' });
  await waitFor('the cache to see api-2', () => ids(cache.instances()).includes('api-2'), 10_000);
  t.same(ids(cache.instances()), ['api-1', 'api-2']);
  await registry.unregister('api', 'api-1');
  await waitFor('the cache to drop api-1', () => !ids(cache.instances()).includes('api-1'), 10_000);
  t.same(changes, [['api-1'], ['api-1', 'api-2'], ['api-2']], 'one change event per change');
  t.same(ids(await ServiceRegistry.queryForInstances(client, '/services', 'api')), ['api-2'], 'a query reads the same');
  await t.rejects(registry.register({ name: 'api', id: 'api-2', address: '10.0.0.9' }), { code: 'NODE_EXISTS' }, 'an id is registered once');
});

t.test("an instance disappears from the cache when its session expires", async (t) => {
  const { session: expiring, proxy } = await openCuttableSession(t, cluster.routerUrl);
  const watcherSession = await openSession(t, cluster.routerUrl);
  await new ServiceRegistry(expiring, '/services').register({ name: 'worker', id: 'w-1', address: '10.0.1.1' });
  const cache = new ServiceCache(watcherSession, '/services', 'worker');
  await cache.start();
  t.teardown(() => cache.close());
  t.same(ids(cache.instances()), ['w-1']);
  proxy.cut();
  await waitFor('the expired instance to leave the cache', () => cache.instances().length === 0, 20_000);
  t.same(ids(cache.instances()), []);
});

interface DbConfig {
  host: string;
  port: number;
}

function validateDbConfig(value: unknown): DbConfig {
  const candidate = value as Partial<DbConfig> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.host !== 'string' || typeof candidate.port !== 'number') {
    throw new Error('expected {host: string, port: number}');
  }
  return { host: candidate.host, port: candidate.port };
}

t.test('a config watch follows a typed value through creation, changes and deletion', async (t) => {
  const session = await openSession(t, cluster.routerUrl);
  const config = new ConfigWatch(session, '/config/db', { validate: validateDbConfig });
  const seen: Array<DbConfig | undefined> = [];
  const errors: string[] = [];
  config.addListener((value) => seen.push(value));
  config.addErrorListener((error) => errors.push(error.message));
  await config.start();
  t.teardown(() => config.close());
  t.equal(config.value, undefined, 'no value before the node exists');
  const writer = new ConfigWatch(session, '/config/db', { validate: validateDbConfig });
  await writer.set({ host: 'db1', port: 5432 });
  await waitFor('the created value', () => config.value?.host === 'db1', 10_000);
  const stat = await writer.set({ host: 'db2', port: 5432 });
  await waitFor('the changed value', () => config.value?.host === 'db2', 10_000);
  t.equal(config.stat?.version, stat.version, 'the stat is the written one');
  await t.rejects(writer.set({ host: 'db3', port: 1 }, { version: stat.version - 1 }), { code: 'BAD_VERSION' }, 'a stale compare-and-set fails');
  t.throws(() => validateDbConfig({ host: 1 }));
  await t.rejects(writer.set({ host: 7 } as unknown as DbConfig), /expected/, 'set refuses an invalid value');
  await client.set('/config/db', '{"host": 42}');
  await waitFor('the invalid value to be reported', () => errors.length > 0, 10_000);
  t.equal(config.value?.host, 'db2', 'an invalid value keeps the last good one');
  await client.delete('/config/db');
  await waitFor('the deletion', () => config.stat === null, 10_000);
  t.same(seen, [{ host: 'db1', port: 5432 }, { host: 'db2', port: 5432 }, undefined], 'one change event per valid change and the deletion');
});
