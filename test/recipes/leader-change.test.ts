/**
 * Recipes across a shard group's leader change: the new leader holds none of the old one's
 * watches and every session gets `WatchesLost`; a waiting recipe must re-read with a watch, or
 * it would wait forever. Here the leader of every group is stopped while a lock waiter and a
 * config watch wait; both must still see the next change.
 */
import t from 'tap';
import { ShardkvClient } from '../../client/index.js';
import { ConfigWatch, DistributedLock } from '../../client/recipes/index.js';
import { startEmbeddedCluster } from '../support/embedded-cluster.js';
import { waitFor } from '../support/wait.js';
import { openSessions } from './sessions.js';

const cluster = await startEmbeddedCluster(t);
const client = new ShardkvClient({ url: cluster.routerUrl, timeout_ms: 10_000 });

async function leaders(): Promise<Map<string, string>> {
  const groups = await client.groups();
  return new Map(groups.flatMap((group) => (group.leader === null ? [] : [[group.id, group.leader] as [string, string]])));
}

t.test('a lock waiter and a config watch keep working after every group changed leader', async (t) => {
  const [holderSession, waiterSession, configSession] = await openSessions(t, cluster.routerUrl, 3, 20_000);
  const holder = new DistributedLock(holderSession!, '/locks/failover');
  const waiter = new DistributedLock(waiterSession!, '/locks/failover');
  const config = new ConfigWatch(configSession!, '/config/failover', { validate: (value) => value as number });
  await config.start();
  t.teardown(() => config.close());
  t.equal(await holder.acquire(), true);
  const acquired = waiter.acquire({ timeout_ms: 40_000 });
  await waitFor('the waiter to wait', () => waiter.phase === 'waiting', 10_000);
  const before = await waitFor('a leader in every group', async () => {
    const found = await leaders();
    return found.size === cluster.groups.length ? found : undefined;
  }, 15_000);
  for (const [group, leader] of before) {
    await cluster.stopShardReplica(group, leader);
    await waitFor(`a new leader of ${group}`, async () => {
      const now = (await leaders()).get(group);
      return now !== undefined && now !== leader;
    }, 20_000, 100);
  }
  await holder.release();
  t.equal(await acquired, true, 'the waiter takes the lock released after the leader change');
  await waiter.release();
  await client.create('/config/failover', '7');
  await waitFor('the config watch to see the value', () => config.value === 7, 15_000);
  t.equal(config.value, 7);
});
