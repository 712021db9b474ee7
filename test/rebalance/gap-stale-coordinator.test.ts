// Known gap 2 of rebalancing, closed: every range op that changes a group carries the
// coordinator's fencing token, the group keeps the highest it accepted in its replicated tree,
// and refuses a lower one (STALE_COORDINATOR) on any leader, also after a restart.
import t, { type Test } from 'tap';
import { ShardkvError } from '../../errors/codes.js';
import type { ShardReadReply, ShardReplyHeader } from '../../protocol/shard.js';
import { diffRings } from '../../ring/index.js';
import { placementKey } from '../../ring/path.js';
import { RebalanceCoordinator } from '../../router/rebalance/coordinator.js';
import { RangeMover } from '../../router/rebalance/range-mover.js';
import { RebalanceAdmin } from '../../router/rebalance/rebalance-admin.js';
import { ELECTION_PATH } from '../../router/rebalance/rebalance-plan.js';
import { rangeToText, type HashRangeText, type RangeImage } from '../../znode/range-transfer.js';
import { waitFor } from '../support/wait.js';
import { ReplicaHarness } from '../znode/replica-harness.js';
import { InProcessCluster, type RouterKit } from './in-process-cluster.js';
import { WriteLoad } from './write-load.js';

function imageOf(path: string, value: string): RangeImage {
  return {
    nodes: [[path, new TextEncoder().encode(value), 10, 10, 1, 1, 0, 0, 'persistent', 0, 0]],
    dirs: [], sessions: [], deletes: [], closedSessions: [],
  };
}

async function refusedAsStale(t: Test, what: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
    t.fail(`${what}: expected STALE_COORDINATOR`);
  } catch (err) {
    t.ok(err instanceof ShardkvError && err.code === 'STALE_COORDINATOR', `${what}: STALE_COORDINATOR (got ${(err as Error).message})`);
  }
}

async function verifyAcked(t: Test, kit: RouterKit, load: WriteLoad): Promise<void> {
  let wrong = 0;
  for (const [path, acked] of load.acked) {
    const reply = await kit.forwarder.send<ShardReadReply>(placementKey(path), { op: 'read', read: 'getData', path, consistency: 'linearizable' }, true);
    if (new TextDecoder().decode(reply.data ?? new Uint8Array(0)) !== acked.value || reply.stat?.version !== acked.version) wrong += 1;
  }
  t.equal(wrong, 0, `all ${load.acked.size} acknowledged keys read back with their last value and version`);
}

t.test('a stale token\'s import and drop are refused after a newer one was accepted, on a new leader and after a restart', async (t) => {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1'], spareGroups: ['g2'] });
  t.teardown(() => cluster.stop());
  const kit = await cluster.router();
  const ring = kit.ring.ring;
  const next = ring.withGroupAdded('g2');
  const ranges: HashRangeText[] = diffRings(ring, next).map(rangeToText);
  const path = '/stale/a';
  const send = (request: Parameters<RouterKit['leaders']['send']>[1]) => kit.leaders.send<ShardReplyHeader>('g2', request);

  await send({ op: 'dropRange', ranges, coordinatorToken: 5 });
  await send({ op: 'importRange', image: imageOf(path, 'old'), coordinatorToken: 5 });
  await send({ op: 'dropRange', ranges, coordinatorToken: 7 }); // the newer coordinator's reset
  await refusedAsStale(t, 'import with token 5 after 7', () => send({ op: 'importRange', image: imageOf(path, 'stale'), coordinatorToken: 5 }));
  await refusedAsStale(t, 'reset with token 5 after 7', () => send({ op: 'dropRange', ranges, coordinatorToken: 5 }));
  await refusedAsStale(t, 'import with no token after 7', () => send({ op: 'importRange', image: imageOf(path, 'stale') }));
  await refusedAsStale(t, 'fence with token 5 after 7', () => send({
    op: 'fenceRange', fenceId: 'stale', ranges, toRingVersion: next.version, coordinatorToken: 5,
  }));
  t.notOk((await cluster.nodesOf('g2')).has(path), 'the newer reset stands: no stale node came back');
  await send({ op: 'importRange', image: imageOf(path, 'new'), coordinatorToken: 7 });
  t.ok((await cluster.nodesOf('g2')).has(path), 'the newer token is still accepted');

  // The token is replicated: a new leader refuses the stale one too.
  const first = await cluster.leaderOf('g2');
  await cluster.stopReplica('g2', first);
  const second = await waitFor('a new leader of g2', async () => {
    const leader = await cluster.leaderOf('g2');
    return leader !== first ? leader : undefined;
  }, 15_000);
  t.not(second, first, 'g2 has a new leader');
  await refusedAsStale(t, 'import with token 5 on the new leader', () => send({ op: 'importRange', image: imageOf(path, 'stale'), coordinatorToken: 5 }));

  // And it survives a restart of the whole group (snapshot + log).
  for (const nodeId of cluster.replicaIds) await cluster.stopReplica('g2', nodeId);
  for (const nodeId of cluster.replicaIds) await cluster.startReplica('g2', nodeId);
  await cluster.leaderOf('g2');
  await refusedAsStale(t, 'reset with token 5 after a restart', () => send({ op: 'dropRange', ranges, coordinatorToken: 5 }));
  const value = (await cluster.nodesOf('g2')).get(path)?.[1];
  t.equal(value === undefined ? undefined : new TextDecoder().decode(value), 'new', 'the node the newer coordinator imported is intact');
});

t.test('a mover with an older token stops with STALE_COORDINATOR once a newer one reset the target, and the newer one completes the move', async (t) => {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1'], spareGroups: ['g2'] });
  t.teardown(() => cluster.stop());
  const kit = await cluster.router();
  const load = new WriteLoad(kit.forwarder, { workers: 3, keysPerWorker: 60, maxOps: 0 });
  await load.seed();
  const ring = kit.ring.ring;
  const next = ring.withGroupAdded('g2');
  const spec = { id: 't1', from: 'g1', to: 'g2', ranges: diffRings(ring, next).map(rangeToText), toRingVersion: next.version };
  // The old coordinator copies slowly (about 2 KB/s), so the newer one starts mid-copy.
  const stale = new RangeMover(kit.leaders, { ...spec, coordinatorToken: 1 }, { rate_bytes_per_s: 2_000, pageEntries: 5 });
  const staleRun = stale.copyAndTail().then(() => undefined, (err: unknown) => err);
  await waitFor('the old mover copying', () => stale.progress.keysCopied > 0, 10_000);
  const fresh = new RangeMover(kit.leaders, { ...spec, coordinatorToken: 2 }, { rate_bytes_per_s: 0, pageEntries: 50 });
  await fresh.copyAndTail();
  const staleError = await waitFor('the old mover to stop', () => staleRun, 30_000).catch((err: unknown) => err);
  t.ok(staleError instanceof ShardkvError && staleError.code === 'STALE_COORDINATOR', `the old mover stopped: ${(staleError as Error)?.message}`);
  await fresh.fenceAndFinish();
  await fresh.verifyCounts();
  await kit.ringAdmin.update((current) => (current.version === ring.version ? next : undefined));
  await kit.ring.atLeast(next.version);
  await fresh.drop();
  await verifyAcked(t, kit, load);
});

t.test('a coordinator whose election node vanished unbeknown to it is refused, and its successor completes the rebalance', async (t) => {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1'], spareGroups: ['g2'] });
  t.teardown(() => cluster.stop());
  const kits = [await cluster.router(), await cluster.router()];
  const coordinator = (kit: RouterKit, routerId: string, rate_bytes_per_s: number) => new RebalanceCoordinator({
    routerId, meta: kit.meta, leaders: kit.leaders, ringAdmin: kit.ringAdmin, hasher: kit.hasher, logger: cluster.logger,
    rate_bytes_per_s, pageEntries: 5, progressEvery_ms: 60_000, poll_ms: 100, sessionTimeout_ms: 2000,
  });
  const load = new WriteLoad(kits[1]!.forwarder, { workers: 3, keysPerWorker: 60, maxOps: 100_000 });
  await load.seed();
  const first = coordinator(kits[0]!, 'router1', 2_000);
  first.start();
  t.teardown(() => first.stop());
  await waitFor('router1 active', () => first.active, 10_000);
  const firstToken = first.election.token!;
  const second = coordinator(kits[1]!, 'router2', 0);
  second.start();
  t.teardown(() => second.stop());
  const admin = new RebalanceAdmin(kits[1]!.meta, kits[1]!.ringAdmin);
  load.start();
  const planId = (await admin.addGroup('g2')).plan!.id;
  await waitFor('a transfer copying', async () => (await admin.status()).plan?.transfers.some((transfer) => transfer.state === 'copying'), 20_000);
  // As if router1's meta session had expired during a pause it did not notice: its node goes,
  // router2 leads with a higher token while router1 still works on the plan.
  await kits[1]!.meta.delete(`${ELECTION_PATH}/n-${String(firstToken - 1).padStart(10, '0')}`);
  const done = await waitFor(`plan ${planId} done`, async () => {
    const status = await admin.status();
    if (status.plan?.state === 'failed') throw new Error(`plan failed: ${status.plan.error}`);
    return status.plan?.state === 'done' ? status : undefined;
  }, 60_000, 50);
  t.equal(done.plan!.coordinator, 'router2', 'the successor finished the plan');
  t.ok(second.election.token! > firstToken, 'the successor\'s token is higher');
  await waitFor('router1 no longer active', () => !first.active, 10_000);
  await load.stop();
  t.same(load.errors.slice(0, 3), [], 'no write failed');
  await verifyAcked(t, kits[0]!, load);
});

t.test('the preparer refuses a token lower than a pending one, and a replay keeps the highest token', async (t) => {
  const r = new ReplicaHarness({ hierarchy: 'implicit', sessionScope: 'external' });
  const empty: RangeImage = { nodes: [], dirs: [], sessions: [], deletes: [], closedSessions: [] };
  const pending = r.preparer.prepare({ op: 'importNodes', image: empty, coordinatorToken: 9 }, { zxid: 1, sessionId: 0, now_ms: 0 });
  t.throws(() => r.preparer.prepare({ op: 'importNodes', image: empty, coordinatorToken: 8 }, { zxid: 2, sessionId: 0, now_ms: 0 }),
    { code: 'STALE_COORDINATOR' }, 'a lower token after a pending higher one is refused');
  r.commit(pending, 1);
  r.zxid = 1;
  t.equal(r.tree.coordinatorToken, 9);
  r.write({ op: 'dropRange', paths: [], dirs: [], sessions: [], coordinatorToken: 9 });
  t.throws(() => r.write({ op: 'dropRange', paths: [], dirs: [], sessions: [], coordinatorToken: 3 }), { code: 'STALE_COORDINATOR' });
  t.throws(() => r.write({ op: 'importNodes', image: imageOf('/__shardkv/coordinator', '0'), coordinatorToken: 9 }), { code: 'BAD_PATH' },
    'an import cannot overwrite the token');
  // A replay of the log over a state that already holds the later token keeps it.
  const snapshot = [...r.tree.serialise()];
  const replayed = new ReplicaHarness({ hierarchy: 'implicit', sessionScope: 'external' });
  replayed.tree.restore(snapshot);
  replayed.tree.apply({ type: 'importNodes', ...empty, coordinatorToken: 4 }, r.zxid + 1, 0);
  t.equal(replayed.tree.coordinatorToken, 9, 'apply never lowers the token');
});
