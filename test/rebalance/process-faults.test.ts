// Rebalancing over real NATS with every service a separate process, under a write load through
// the HTTP API, with kill -9 mid-move of: the source group's leader, the target group's leader,
// and the coordinating router. Every rebalance completes; no acknowledged write is lost.
import t from 'tap';
import type { ExportPageReply } from '../../protocol/shard.js';
import type { RebalanceStatus } from '../../router/rebalance/rebalance-admin.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';
import { HttpWriteLoad } from './http-load.js';

// Slow copies (0.25 MiB/s per transfer) so that each kill lands mid-move.
process.env.SHARDKV_REBALANCE_RATE_MBPS = '0.25';

async function api(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: RebalanceStatus & { code?: string } }> {
  const response = await fetch(`${url}${path}`, {
    method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, json: (await response.json()) as RebalanceStatus & { code?: string } };
}

async function copying(url: string): Promise<RebalanceStatus> {
  return waitFor('a transfer mid-copy', async () => {
    const { json } = await api(url, 'GET', '/v1/rebalance');
    return json.plan?.transfers.some((tr) => tr.state === 'copying' && tr.keysCopied > 0) ? json : undefined;
  }, 60_000, 25);
}

async function done(url: string, planId: string): Promise<RebalanceStatus> {
  return waitFor(`plan ${planId} done`, async () => {
    const { json } = await api(url, 'GET', '/v1/rebalance');
    if (json.plan?.id === planId && json.plan.state === 'failed') throw new Error(`plan failed: ${json.plan.error}`);
    return json.plan?.id === planId && json.plan.state === 'done' ? json : undefined;
  }, 90_000, 100);
}

t.test('rebalances survive kill -9 of the source leader, the target leader and the coordinating router', async (t) => {
  const cluster = await ProcessCluster.startFor(t, { groups: ['g1', 'g2', 'g3'], routers: 2, logLevel: 'info' });
  const routers = cluster.routerNames.map((name) => ({ name, url: cluster.routerUrl(name) }));
  const load = new HttpWriteLoad(routers[1]!.url, { workers: 3, keysPerWorker: 40, valueBytes: 6000 });
  await load.seed();
  load.start();

  // 1. remove g3, killing g3's leader (the source) mid-copy
  const remove = await api(routers[0]!.url, 'DELETE', '/v1/groups/g3');
  t.equal(remove.status, 202, 'remove g3 accepted');
  t.comment('remove g3 planned');
  await copying(routers[0]!.url);
  t.comment('copying');
  const sourceLeader = (await cluster.leader('g3')).id;
  await cluster.kill(cluster.replicaName('g3', sourceLeader));
  t.comment(`killed g3 ${sourceLeader}`);
  const removed = await done(routers[0]!.url, remove.json.plan!.id);
  t.ok(removed.plan!.transfers.some((tr) => tr.attempts >= 2), 'a transfer restarted after the source leader died');
  cluster.start(cluster.replicaName('g3', sourceLeader));

  // 2. add g3 back, killing g3's leader (the target) mid-copy
  await cluster.leader('g3');
  const add = await api(routers[0]!.url, 'POST', '/v1/groups', { id: 'g3' });
  t.equal(add.status, 202, 'add g3 accepted');
  await copying(routers[0]!.url);
  const targetLeader = (await cluster.leader('g3')).id;
  await cluster.kill(cluster.replicaName('g3', targetLeader));
  // The target's state is replicated: its new leader carries on (imports are idempotent), no restart needed.
  const added = await done(routers[0]!.url, add.json.plan!.id);
  t.equal(added.plan!.state, 'done', 'the rebalance completed although the target leader died');
  cluster.start(cluster.replicaName('g3', targetLeader));
  await cluster.leader('g3');

  // 3. remove g2, killing the coordinating router mid-copy; the load runs through the other one
  const coordinatorPid = Number(/^router-(\d+)-/.exec(added.plan!.coordinator ?? '')?.[1]);
  const coordinator = routers.find((router) => cluster.pid(router.name) === coordinatorPid);
  t.ok(coordinator !== undefined, `the coordinator ${added.plan!.coordinator} is one of the routers`);
  const survivor = routers.find((router) => router !== coordinator)!;
  await load.stop();
  load.router = survivor.url;
  load.start();
  const removeG2 = await api(survivor.url, 'DELETE', '/v1/groups/g2');
  t.equal(removeG2.status, 202);
  await copying(survivor.url);
  await cluster.kill(coordinator!.name);
  const removedG2 = await done(survivor.url, removeG2.json.plan!.id);
  t.not(removedG2.plan!.coordinator, added.plan!.coordinator, 'another router finished the plan');
  await load.stop();

  t.comment(`writes ${load.latencies_ms.length}, errors ${load.errors.length}, uncertain ${load.uncertain.size}: ${load.errors.slice(0, 3).join(' | ')}`);
  t.same(await load.verify(), [], 'every acknowledged write reads back with its last value and version');
  let gaps = 0;
  for (const [dir, names] of load.sequential) {
    if (load.uncertain.has(dir)) continue;
    const suffixes = names.map((name) => Number(name.slice(-10)));
    if (new Set(suffixes).size !== suffixes.length || suffixes.some((s, i) => i > 0 && s <= suffixes[i - 1]!)) gaps += 1;
  }
  t.equal(gaps, 0, 'sequential names are unique and increasing in every directory');
  const ring = await cluster.ring(survivor.name);
  t.same(ring.groupIds(), ['g1', 'g3']);
  let misplaced = 0;
  for (const group of ['g1', 'g2', 'g3']) {
    let cursor: number | null = 0;
    for (let pages = 0; cursor !== null && pages < 1000; pages++) {
      const page: ExportPageReply = await cluster.shardRequest<ExportPageReply>(group, {
        op: 'exportRange', exportId: `check-${group}`, ranges: [['0000000000000000', '0000000000000000']], cursor, limit: 1000,
        maxBytes: 256 * 1024, ringVersion: 0,
      }, 10_000);
      for (const node of page.image.nodes) if (ring.ownerOfPath(node[0]) !== group) misplaced += 1;
      cursor = page.nextCursor;
    }
  }
  t.equal(misplaced, 0, 'every node lives only on its owner at the final ring');
});
