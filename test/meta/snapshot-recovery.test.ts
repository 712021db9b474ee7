/**
 * The meta ensemble's disk, 3 replica processes over a real nats-server with small snapshot
 * and log settings: a follower absent while snapshots were taken and logs purged catches up by
 * SNAP, with the leader's data; and a whole ensemble killed with -9 comes back from its files
 * with every node, its data and its stat.
 */
import t from 'tap';
import type { MetaClient } from '../../meta/meta-client.js';
import type { Stat } from '../../znode/types.js';
import { MetaCluster } from '../support/meta-cluster.js';

const text = (value: string) => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const ABSENCE_WRITES = 400;
const IN_FLIGHT = 16;

const cluster = await MetaCluster.start({
  replicaArgs: ['--snapshot-every', '50', '--snapshot-retain', '2', '--log-window', '50'],
});
t.teardown(() => cluster.stopAll({ keepLogs: !t.passing() }));

/** Runs `count` writes with at most IN_FLIGHT of them in flight. */
async function pipelined(count: number, write: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await write(next++);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

/** Every node under `root` (one level) with its data and stat, read through the leader. */
async function snapshotOf(client: MetaClient, root: string, consistency: 'linearizable' | 'stale' = 'linearizable'): Promise<Map<string, { data: string; stat: Stat }>> {
  const nodes = new Map<string, { data: string; stat: Stat }>();
  const { children } = await client.getChildren(root, { consistency });
  for (const child of children.sort()) {
    const path = `${root}/${child}`;
    const { data, stat } = await client.getData(path, { consistency });
    nodes.set(path, { data: decode(data), stat });
  }
  return nodes;
}

t.test('a follower absent while snapshots were taken and logs purged catches up by SNAP, with the leader\'s data', async (t) => {
  const client = await cluster.client();
  const leader = await cluster.settled();
  const absent = cluster.nodeIds.find((id) => id !== leader.id) as string;
  await cluster.kill(absent);

  await client.create('/absence', text(''));
  await pipelined(ABSENCE_WRITES, async (i) => {
    const path = `/absence/n${String(i % 100).padStart(3, '0')}`;
    if (i < 100) await client.create(path, text(`v${i}`));
    else await client.setData(path, text(`v${i}`));
  });
  const after = await cluster.leader();
  t.ok(after.status.snapshotsTaken >= 2, `the leader took snapshots while ${absent} was away (${after.status.snapshotsTaken})`);

  cluster.start(absent);
  const caughtUp = await cluster.caughtUp(absent, after.status.appliedZxid, 30_000);
  t.ok(caughtUp.snapshotsInstalled >= 1, `${absent} caught up by installing a snapshot (SNAP sync: ${caughtUp.snapshotsInstalled})`);
  t.equal(caughtUp.appliedZxid, after.status.appliedZxid);
  t.equal(caughtUp.nodeCount, after.status.nodeCount);

  // The data itself: read everything through the leader, then with only the returned follower
  // alive, whatever serves a stale read is that follower.
  const expected = await snapshotOf(client, '/absence');
  t.equal(expected.size, 100);
  for (const id of cluster.nodeIds) if (id !== absent) await cluster.kill(id);
  const reader = await cluster.client();
  const served = await snapshotOf(reader, '/absence', 'stale');
  t.same([...served.keys()], [...expected.keys()], 'the same nodes');
  const differing = [...expected].filter(([path, node]) => {
    const other = served.get(path);
    return other === undefined || other.data !== node.data || other.stat.version !== node.stat.version || other.stat.mzxid !== node.stat.mzxid;
  }).map(([path]) => path);
  t.same(differing, [], 'the same data, versions and mzxids as the leader');
  t.equal(served.get('/absence/n099')?.data, `v${ABSENCE_WRITES - 1}`, 'the last write is there');
});

t.test('the whole ensemble killed with -9 restarts from disk with every node, its data and stat', async (t) => {
  for (const id of cluster.nodeIds) if (!cluster.isRunning(id)) cluster.start(id);
  await cluster.settled();
  const client = await cluster.client();
  await client.create('/durable', text(''));
  await pipelined(120, async (i) => {
    const path = `/durable/k${String(i % 40).padStart(2, '0')}`;
    if (i < 40) await client.create(path, text(`first-${i}`));
    else await client.setData(path, text(`set-${i}`));
  });
  const session = await client.createSession(60_000);
  await client.create('/durable/ephemeral', text('owned'), 'ephemeral', { sessionId: session.sessionId });
  client.abandonSession(session.sessionId);
  const before = await snapshotOf(client, '/durable');
  const absenceBefore = await snapshotOf(client, '/absence');
  const leaderBefore = await cluster.leader();

  await Promise.all(cluster.nodeIds.map((id) => cluster.kill(id)));
  for (const id of cluster.nodeIds) cluster.start(id);
  const leaderAfter = await cluster.leader(45_000);
  t.ok(leaderAfter.status.epoch > leaderBefore.status.epoch, 'a new epoch after the restart');
  t.ok(leaderAfter.status.appliedZxid >= leaderBefore.status.appliedZxid, 'nothing committed is lost');

  const reader = await cluster.client();
  const after = await snapshotOf(reader, '/durable');
  t.same([...after.keys()], [...before.keys()], 'every node is there (the session\'s ephemeral too, until it expires)');
  const differing = [...before].filter(([path, node]) => {
    const other = after.get(path);
    return other === undefined || other.data !== node.data || JSON.stringify(other.stat) !== JSON.stringify(node.stat);
  }).map(([path]) => path);
  t.same(differing, [], 'every node has the same data and the same stat');
  t.same(await snapshotOf(reader, '/absence'), absenceBefore, 'the nodes of the snapshot-synced period too');
});
