// Stage 2 of rebalancing in one process over the in-process bus: the admin API starts plans, the
// elected coordinator carries them out while a write load runs, and a successor resumes a plan
// whose coordinator crashed.
import Fastify from 'fastify';
import t, { type Test } from 'tap';
import type { ShardReadReply } from '../../protocol/shard.js';
import { Ring } from '../../ring/index.js';
import { placementKey } from '../../ring/path.js';
import { registerAdminRoutes } from '../../router/http/admin-routes.js';
import { errorReply } from '../../router/http/error-reply.js';
import { RebalanceCoordinator } from '../../router/rebalance/coordinator.js';
import { RebalanceAdmin, type RebalanceStatus } from '../../router/rebalance/rebalance-admin.js';
import { waitFor } from '../support/wait.js';
import { InProcessCluster, type RouterKit } from './in-process-cluster.js';
import { WriteLoad } from './write-load.js';

function coordinatorOf(cluster: InProcessCluster, kit: RouterKit, routerId: string, rate_bytes_per_s = 0): RebalanceCoordinator {
  return new RebalanceCoordinator({
    routerId, meta: kit.meta, leaders: kit.leaders, ringAdmin: kit.ringAdmin, hasher: kit.hasher, logger: cluster.logger,
    rate_bytes_per_s, pageEntries: 20, progressEvery_ms: 100, poll_ms: 100, sessionTimeout_ms: 2000,
  });
}

async function adminApp(t: Test, kit: RouterKit) {
  const app = Fastify();
  // As the router's server does (router/http/server.ts): errors as JSON with their code's status.
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = errorReply(error, request.log, request.id);
    return reply.code(status).send(body);
  });
  await registerAdminRoutes(app, { admin: new RebalanceAdmin(kit.meta, kit.ringAdmin), eventsPoll_ms: 50 });
  t.teardown(() => app.close());
  return app;
}

async function waitDone(app: ReturnType<typeof Fastify>, planId: string, timeout_ms = 60_000): Promise<RebalanceStatus> {
  return waitFor(`plan ${planId} done`, async () => {
    const status = (await app.inject({ method: 'GET', url: '/v1/rebalance' })).json() as RebalanceStatus;
    if (status.plan?.id === planId && status.plan.state === 'failed') throw new Error(`plan failed: ${status.plan.error}`);
    return status.plan?.id === planId && status.plan.state === 'done' ? status : undefined;
  }, timeout_ms, 50);
}

async function verify(t: Test, cluster: InProcessCluster, kit: RouterKit, load: WriteLoad, groups: string[]): Promise<void> {
  const ring = await kit.ring.refresh();
  let wrong = 0;
  for (const [path, acked] of load.acked) {
    const reply = await kit.forwarder.send<ShardReadReply>(placementKey(path), { op: 'read', read: 'getData', path, consistency: 'linearizable' }, true);
    if (new TextDecoder().decode(reply.data) !== acked.value || reply.stat?.version !== acked.version) wrong += 1;
  }
  t.equal(wrong, 0, `all ${load.acked.size} acknowledged keys read back with their last value and version`);
  let badDirs = 0;
  for (const [, names] of load.sequential) {
    const suffixes = names.map((name) => Number(name.slice(-10)));
    if (suffixes.some((suffix, i) => suffix !== i)) badDirs += 1;
  }
  t.equal(badDirs, 0, 'sequential names unique and gap-free in every directory');
  let misplaced = 0;
  for (const group of groups) for (const path of (await cluster.nodesOf(group)).keys()) if (ring.ownerOfPath(path) !== group) misplaced += 1;
  t.equal(misplaced, 0, 'every node lives only on its owner at the new ring');
}

t.test('adding then removing a group under a write load loses no acknowledged write', async (t) => {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1', 'g2'], spareGroups: ['g3'] });
  t.teardown(() => cluster.stop());
  const kits = [await cluster.router(), await cluster.router()];
  const coordinators = kits.map((kit, i) => coordinatorOf(cluster, kit, `router${i + 1}`));
  for (const coordinator of coordinators) coordinator.start();
  t.teardown(() => Promise.all(coordinators.map((c) => c.stop())));
  const app = await adminApp(t, kits[0]!);
  const load = new WriteLoad(kits[1]!.forwarder, { workers: 4, keysPerWorker: 30, maxOps: 100_000 });
  await load.seed();
  load.start();

  const added = await app.inject({ method: 'POST', url: '/v1/groups', payload: { id: 'g3' } });
  t.equal(added.statusCode, 202);
  const addPlan = (added.json() as RebalanceStatus).plan!;
  t.ok(addPlan.transfers.every((transfer) => transfer.to === 'g3'), 'every transfer goes to the new group');
  const refused = await app.inject({ method: 'DELETE', url: '/v1/groups/g1' });
  t.equal(refused.statusCode, 409, 'a second rebalance while one runs is refused');
  t.equal(refused.json().code, 'REBALANCE_IN_PROGRESS');
  const addDone = await waitDone(app, addPlan.id);
  t.equal(addDone.summary?.fraction, 1);
  t.ok(addDone.plan!.transfers.every((transfer) => transfer.state === 'dropped'));
  t.ok(coordinators.filter((c) => c.active).length === 1, 'exactly one coordinator is active');

  const removed = await app.inject({ method: 'DELETE', url: '/v1/groups/g2' });
  t.equal(removed.statusCode, 202);
  const removePlan = (removed.json() as RebalanceStatus).plan!;
  t.ok(removePlan.transfers.every((transfer) => transfer.from === 'g2'));
  await waitDone(app, removePlan.id);
  await load.stop();
  t.comment(`ops ${load.ops}, errors ${load.errors.length}`);
  t.same(load.errors.slice(0, 3), [], 'no write failed');
  const ring = Ring.fromJSON(removePlan.targetRing, kits[0]!.hasher);
  t.same(ring.groupIds(), ['g1', 'g3']);
  await verify(t, cluster, kits[0]!, load, ['g1', 'g2', 'g3']);
  t.equal((await cluster.nodesOf('g2')).size, 0, 'the removed group holds no data');
});

t.test('when the coordinating router crashes mid-move, another router resumes and completes the rebalance', async (t) => {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1'], spareGroups: ['g2'] });
  t.teardown(() => cluster.stop());
  const kits = [await cluster.router(), await cluster.router()];
  const load = new WriteLoad(kits[1]!.forwarder, { workers: 3, keysPerWorker: 60, maxOps: 100_000 });
  await load.seed();
  // Slow copy (about 20 KB/s), so the crash lands mid-copy.
  const first = coordinatorOf(cluster, kits[0]!, 'router1', 20_000);
  first.start();
  await waitFor('router1 active', () => first.active, 10_000);
  const second = coordinatorOf(cluster, kits[1]!, 'router2', 0);
  second.start();
  t.teardown(() => second.stop());
  const app = await adminApp(t, kits[1]!);
  load.start();
  const planId = ((await app.inject({ method: 'POST', url: '/v1/groups', payload: { id: 'g2' } })).json() as RebalanceStatus).plan!.id;
  await waitFor('a transfer copying', async () => {
    const status = (await app.inject({ method: 'GET', url: '/v1/rebalance' })).json() as RebalanceStatus;
    return status.plan?.transfers.some((transfer) => transfer.state === 'copying' && transfer.keysCopied > 0);
  }, 20_000);
  await first.crash();
  const done = await waitDone(app, planId);
  t.equal(done.plan!.coordinator, 'router2', 'the second router finished the plan');
  t.ok(done.plan!.transfers.some((transfer) => transfer.attempts >= 2), 'the transfer was restarted by the successor');
  await load.stop();
  t.same(load.errors.slice(0, 3), [], 'no write failed');
  await verify(t, cluster, kits[0]!, load, ['g1', 'g2']);
});

t.test('the rebalance event stream reports progress and ends when the plan is done', async (t) => {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1'], spareGroups: ['g2'], replicasPerGroup: 1 });
  t.teardown(() => cluster.stop());
  const kit = await cluster.router();
  const coordinator = coordinatorOf(cluster, kit, 'router1');
  coordinator.start();
  t.teardown(() => coordinator.stop());
  const app = await adminApp(t, kit);
  const load = new WriteLoad(kit.forwarder, { workers: 2, keysPerWorker: 20, maxOps: 0 });
  await load.seed();
  t.equal((await app.inject({ method: 'POST', url: '/v1/groups', payload: { id: 'g2' } })).statusCode, 202);
  const stream = await app.inject({ method: 'GET', url: '/v1/rebalance/events' });
  t.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8');
  const progress = stream.body.split('\n\n').filter((block) => block.startsWith('event: progress'));
  t.ok(progress.length >= 1, `${progress.length} progress events`);
  t.match(stream.body, /event: end\ndata: \{"state":"done"\}/);
});
