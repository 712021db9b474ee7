// Rebalancing over real NATS with every service a separate process, under a read+write load
// through the HTTP API: first a plain add of a group and removal of one, then moves with kill -9
// mid-move of the source group's leader, the target group's leader, and the coordinating router.
// After each stage: every acknowledged write reads back with its last value and version,
// sequential names are unique and gap-free, every node lives only on its owner, and the history
// of gets and sets the load observed is linearizable.
import t, { type Test } from 'tap';
import { performance } from 'node:perf_hooks';
import type { ExportPageReply } from '../../protocol/shard.js';
import type { RebalanceStatus } from '../../router/rebalance/rebalance-admin.js';
import { checkLinearizable, isPending } from '../lincheck/checker.js';
import { kvModel, type KvOperation } from '../lincheck/kv-model.js';
import { plantStaleRead } from '../lincheck/stale-read.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';
import { HttpKvLoad } from './http-load.js';

// Slow copies (0.1 MiB/s per transfer; a move here copies 100-400 KiB a transfer) so that each
// kill lands mid-move.
process.env.SHARDKV_REBALANCE_RATE_MBPS = '0.1';

/** Budget of one linearizability check; running out fails the test (it does not pass as unknown). */
const LINCHECK_TIMEOUT_MS = 30_000;

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

/** One line per transfer of a plan: what it moved and how often it started. */
function transfers(status: RebalanceStatus): string {
  return status.plan!.transfers.map((tr) => `${tr.from}->${tr.to}: ${tr.keysTotal} keys, ${tr.bytesCopied} bytes, ${tr.attempts} attempts`).join('; ');
}

async function changeGroups(url: string, change: 'add' | 'remove', group: string): Promise<RebalanceStatus> {
  const { status, json } = change === 'add' ? await api(url, 'POST', '/v1/groups', { id: group }) : await api(url, 'DELETE', `/v1/groups/${group}`);
  if (status !== 202) throw new Error(`${change} ${group} answered ${status} ${json.code ?? ''}`);
  return json;
}

/** Nodes found on a group that the ring does not place there, over every group of the cluster. */
async function misplacedNodes(cluster: ProcessCluster, router: string, stage: string): Promise<string[]> {
  const ring = await cluster.ring(router);
  const misplaced: string[] = [];
  for (const group of cluster.groups) {
    let cursor: number | null = 0;
    for (let pages = 0; cursor !== null && pages < 1000; pages++) {
      const page: ExportPageReply = await cluster.shardRequest<ExportPageReply>(group, {
        op: 'exportRange', exportId: `check-${stage.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40)}-${group}`, ranges: [['0000000000000000', '0000000000000000']], cursor, limit: 1000,
        maxBytes: 256 * 1024, ringVersion: 0,
      }, 10_000);
      for (const node of page.image.nodes) if (ring.ownerOfPath(node[0]) !== group) misplaced.push(`${node[0]} on ${group}`);
      cursor = page.nextCursor;
    }
  }
  return misplaced;
}

/** Linearizability of the load's history so far, with its size and the time the check took in a comment. */
function assertLinearizable(t: Test, history: KvOperation[], stage: string): void {
  const began = performance.now();
  const verdict = checkLinearizable(kvModel, history, { timeout_ms: LINCHECK_TIMEOUT_MS });
  const took_ms = Math.round(performance.now() - began);
  t.comment(`${stage}: linearizability checked over ${history.length} operations (${history.filter(isPending).length} pending) in ${took_ms} ms`);
  if (verdict.ok === false) t.comment(verdict.message);
  const unknown = verdict.ok === 'unknown' ? ' (the check ran out of time: unknown, which fails too)' : '';
  t.equal(verdict.ok, true, `${stage}: the history of gets and sets is linearizable${unknown}`);
}

/** Every check of a stage, with the load stopped. */
async function checkStage(t: Test, cluster: ProcessCluster, load: HttpKvLoad, router: string, stage: string, groups: string[]): Promise<void> {
  t.comment(`${stage}: load ${JSON.stringify(load.counts)}, last errors: ${load.errors.slice(-3).join(' | ')}`);
  const wrong = await load.verify();
  t.same(wrong.keys, [], `${stage}: every acknowledged write reads back with its last value and version`);
  t.same(wrong.sequential, [], `${stage}: sequential names are unique and gap-free, none lost or duplicated`);
  t.same((await cluster.ring(router)).groupIds(), groups, `${stage}: the ring holds ${groups.join(', ')}`);
  t.same(await misplacedNodes(cluster, router, stage), [], `${stage}: every node lives only on its owner`);
  assertLinearizable(t, load.history(), stage);
}

t.test('under a read+write load, adding then removing a group loses nothing, duplicates nothing and stays linearizable, also with kill -9 mid-move', async (t) => {
  const began_ms = Date.now();
  const cluster = await ProcessCluster.startFor(t, { groups: ['g1', 'g2', 'g3'], routers: 2, logLevel: 'info' });
  t.comment(`cluster started at ${Date.now() - began_ms} ms`);
  const routers = cluster.routerNames.map((name) => ({ name, url: cluster.routerUrl(name) }));
  // g3 leaves the ring before any data exists, so that the load sees it added.
  const setup = await changeGroups(routers[0]!.url, 'remove', 'g3');
  t.comment(`setup: ${transfers(await done(routers[0]!.url, setup.plan!.id))}`);

  const load = new HttpKvLoad(routers[1]!.url, { workers: 3, keysPerWorker: 40, valueBytes: 6000, seed: 7 });
  await load.seed();
  load.start();

  // 1. plain: add g3, then remove it, each once the load is under way
  await load.progress(150);
  const add = await changeGroups(routers[0]!.url, 'add', 'g3');
  t.comment(`g3 added at ${Date.now() - began_ms} ms: ${transfers(await done(routers[0]!.url, add.plan!.id))}`);
  await load.progress(150);
  const remove = await changeGroups(routers[0]!.url, 'remove', 'g3');
  t.comment(`g3 removed at ${Date.now() - began_ms} ms: ${transfers(await done(routers[0]!.url, remove.plan!.id))}`);
  await load.stop();
  t.comment(`plain stage done at ${Date.now() - began_ms} ms`);
  await checkStage(t, cluster, load, routers[0]!.name, 'after adding g3 and removing it', ['g1', 'g2']);
  load.start();

  // 2. add g3 back, killing g3's leader (the target) mid-copy
  const addKill = await changeGroups(routers[0]!.url, 'add', 'g3');
  await copying(routers[0]!.url);
  const targetLeader = (await cluster.leader('g3')).id;
  await cluster.kill(cluster.replicaName('g3', targetLeader));
  t.comment(`killed g3 ${targetLeader} (target)`);
  // The target's state is replicated: its new leader carries on (imports are idempotent), no restart needed.
  const added = await done(routers[0]!.url, addKill.plan!.id);
  t.comment(transfers(added));
  t.equal(added.plan!.state, 'done', 'the rebalance completed although the target leader died');
  cluster.start(cluster.replicaName('g3', targetLeader));
  await cluster.leader('g3');

  // 3. remove g3, killing g3's leader (the source) mid-copy
  const removeKill = await changeGroups(routers[0]!.url, 'remove', 'g3');
  await copying(routers[0]!.url);
  const sourceLeader = (await cluster.leader('g3')).id;
  await cluster.kill(cluster.replicaName('g3', sourceLeader));
  t.comment(`killed g3 ${sourceLeader} (source)`);
  const removed = await done(routers[0]!.url, removeKill.plan!.id);
  t.comment(transfers(removed));
  t.ok(removed.plan!.transfers.some((tr) => tr.attempts >= 2), 'a transfer restarted after the source leader died');
  cluster.start(cluster.replicaName('g3', sourceLeader));
  await cluster.leader('g3');

  // 4. remove g2, killing the coordinating router mid-copy; the load runs through the other one
  const coordinatorPid = Number(/^router-(\d+)-/.exec(removed.plan!.coordinator ?? '')?.[1]);
  const coordinator = routers.find((router) => cluster.pid(router.name) === coordinatorPid);
  t.ok(coordinator !== undefined, `the coordinator ${removed.plan!.coordinator} is one of the routers`);
  const survivor = routers.find((router) => router !== coordinator)!;
  await load.stop();
  load.router = survivor.url;
  load.start();
  const removeG2 = await changeGroups(survivor.url, 'remove', 'g2');
  await copying(survivor.url);
  await cluster.kill(coordinator!.name);
  const removedG2 = await done(survivor.url, removeG2.plan!.id);
  t.comment(transfers(removedG2));
  t.not(removedG2.plan!.coordinator, removed.plan!.coordinator, 'another router finished the plan');
  await load.stop();
  t.comment(`kill stages done at ${Date.now() - began_ms} ms`);
  await checkStage(t, cluster, load, survivor.name, 'after the moves with kill -9', ['g1']);

  t.test('the same check fails when one read of this history is made stale', async (t) => {
    const planted = plantStaleRead(load.history());
    if (planted === undefined) throw new Error('no read in the history follows two acknowledged writes of its key');
    t.comment(planted.description);
    const verdict = checkLinearizable(kvModel, planted.history, { timeout_ms: LINCHECK_TIMEOUT_MS });
    t.equal(verdict.ok, false, 'reported as not linearizable');
    if (verdict.ok === false) t.ok(verdict.operations.includes(planted.history[planted.index]!), 'in the partition of the altered read');
  });
});
