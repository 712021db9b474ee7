/**
 * A network partition of one replica, by NATS-level isolation: every replica of the group that
 * takes the write load runs
 * behind its own NatsSwitchProxy; the group's leader is cut off while it runs (its proxy drops
 * its connection and sends its reconnect to a separate nats-server, where nobody else is), then
 * healed (its proxy sends it back to the main nats-server). Network namespaces (ip netns) are
 * not used: NATS is the only network the replicas share, so isolating a replica's NATS
 * connection is a partition of that replica.
 */
import t from 'tap';
import { createLogger } from '../../logging/logger.js';
import { connectNats } from '../../net/nats.js';
import { Subjects } from '../../net/subjects.js';
import { startNatsServer } from '../support/nats-server.js';
import { ProcessCluster, type ShardReplicaStatus } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';
import { NatsSwitchProxy } from './nats-switch-proxy.js';
import { RewiredService } from './rewired-service.js';
import { LOAD_ROOT, WriteLoad } from './write-load.js';

const serving = (status: ShardReplicaStatus | undefined): boolean => status?.role === 'leading' || status?.role === 'following';

t.test('a partitioned shard leader is replaced, its isolated side commits nothing, and after the heal it catches up with no acknowledged write lost', async (t) => {
  const cluster = await ProcessCluster.startFor(t, { routers: 1 });
  const isolated = await startNatsServer();
  t.teardown(() => isolated.stop());
  // The load's keys share one parent, so they all live on the group owning that placement key.
  const group = (await cluster.ring()).ownerOfPath(`${LOAD_ROOT}/w0-00000`);
  const ids = cluster.replicaIds(group);

  /** The group's one established leader among all its replicas (the harness's own leader() skips rewired ones). */
  const leaderOf = (among: string[], timeout_ms: number): Promise<ShardReplicaStatus> =>
    waitFor(`an established leader of ${group} among ${among.join(',')}`, async () => {
      const statuses = await Promise.all(among.map((id) => cluster.status(group, id, 500).catch(() => undefined)));
      const leaders = statuses.filter((status): status is ShardReplicaStatus => status?.role === 'leading' && status.established);
      return leaders.length === 1 ? leaders[0] : undefined;
    }, timeout_ms, 100);

  const load = new WriteLoad({ routers: [cluster.routerUrl()], workers: 3, maxWrites: 4_000, writeDeadline_ms: 20_000, pause_ms: 5 });
  await load.start();
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await load.stop();
  });
  await waitFor('writes acknowledged before the partition', () => load.acknowledgedCount >= 20, 15_000);

  // Move every replica of the group behind its own proxy, one at a time (a rolling restart),
  // so that whichever of them leads can be cut off while it runs.
  const proxies = new Map<string, NatsSwitchProxy>();
  for (const id of ids) {
    const name = cluster.replicaName(group, id);
    const proxy = await NatsSwitchProxy.start(cluster.nats.port);
    t.teardown(() => proxy.close());
    proxies.set(id, proxy);
    await cluster.kill(name);
    const replica = RewiredService.start(cluster, name, proxy.url);
    t.teardown(() => replica.stop());
    await waitFor(`${name} serving behind its proxy`, async () => serving(await cluster.status(group, id, 500)), 30_000, 100);
    await leaderOf(ids, 30_000);
  }

  const before = await leaderOf(ids, 30_000);
  const victim = before.id;
  const others = ids.filter((id) => id !== victim);
  const acknowledgedBefore = load.acknowledgedCount;
  t.comment(`partitioning the leader ${victim} of ${group} (epoch ${before.epoch}, zxid ${before.zxid})`);
  t.ok(before.nodeCount > 20, `the partitioned leader's group holds the load's writes (${before.nodeCount} znodes)`);
  (proxies.get(victim) as NatsSwitchProxy).switchTo(isolated.port);

  // The isolated side: the replica is alive and reconnected to the separate server, where it
  // answers its status; without a quorum it must stop leading.
  const isolatedNc = await connectNats({ servers: isolated.url, logger: createLogger({ role: 'test' }, { level: 'error' }), name: 'partition-test' });
  t.teardown(() => isolatedNc.close());
  const statusSubject = new Subjects(cluster.prefix).replicaStatus(group, victim);
  const isolatedStatus = (): Promise<ShardReplicaStatus> => isolatedNc.request<ShardReplicaStatus>(statusSubject, { op: 'status' }, { timeout_ms: 500 });
  const cutOff = await waitFor(`${victim} looking on the isolated side`, async () => {
    const status = await isolatedStatus();
    return status.role === 'looking' ? status : undefined;
  }, 20_000, 100);

  // The majority side elects a new leader in a later epoch and keeps acknowledging writes.
  const during = await leaderOf(others, 20_000);
  t.ok(during.epoch > before.epoch, `the majority elected ${during.id} in a later epoch (${during.epoch} > ${before.epoch})`);
  await waitFor('writes acknowledged during the partition', () => load.acknowledgedCount >= acknowledgedBefore + 30, 30_000);
  const majority = await leaderOf(others, 5_000);
  t.ok(majority.nodeCount > cutOff.nodeCount, `the majority committed writes the partitioned replica lacks (${majority.nodeCount} > ${cutOff.nodeCount} znodes)`);
  const stillIsolated = await isolatedStatus();
  t.not(stillIsolated.role, 'leading', 'the partitioned replica is not leading at the end of the partition');
  t.equal(stillIsolated.zxid, cutOff.zxid, 'the partitioned replica applied nothing while isolated');
  t.equal(stillIsolated.nodeCount, cutOff.nodeCount, 'the partitioned replica\'s tree did not change while isolated');
  t.comment(`${load.acknowledgedCount - acknowledgedBefore} writes acknowledged during the partition`);

  // Heal: the replica's connection goes back to the main server; it must rejoin as a follower and catch up.
  (proxies.get(victim) as NatsSwitchProxy).switchTo(cluster.nats.port);
  await waitFor(`${victim} following again after the heal`, async () => (await cluster.status(group, victim, 500)).role === 'following', 30_000, 100);
  const healed = load.acknowledgedCount;
  await waitFor('writes acknowledged after the heal', () => load.acknowledgedCount >= healed + 20, 20_000);
  const report = await load.stop();
  stopped = true;

  const [leader, rejoined] = await waitFor(`${victim} caught up with the leader`, async () => {
    const leaderNow = await leaderOf(ids, 5_000);
    const victimNow = await cluster.status(group, victim, 500);
    return victimNow.zxid === leaderNow.zxid ? [leaderNow, victimNow] as const : undefined;
  }, 30_000, 100);
  t.equal(rejoined.nodeCount, leader.nodeCount, 'the healed replica holds as many znodes as the leader');
  t.equal(rejoined.epoch, leader.epoch, 'the healed replica follows the current epoch');

  t.comment(`${report.acknowledged} writes acknowledged, ${report.retries} retried attempts`);
  t.same(report.unexpected, [], 'no write met an error other than a transient one');
  t.same(report.failed, [], 'no write failed beyond its retries');
  t.same(await load.verify(), [], 'every acknowledged write reads back with its value');
});
