/**
 * Placement over a real multi-process cluster (nats-server, 3 meta, 2 groups x 3 replicas, a
 * router): nodes live on the group the ring gives their directory, a group refuses keys it does
 * not own with MOVED and its ring version, and a router whose ring is stale follows MOVED.
 */
import { Agent } from 'node:http';
import t from 'tap';
import { ShardkvError } from '../../errors/codes.js';
import { RING_PATH } from '../../meta/cluster-records.js';
import type { ShardReadReply, ShardRequest } from '../../protocol/shard.js';
import { placementKey } from '../../ring/index.js';
import type { RingDocument } from '../../ring/ring-document.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';
import { RouterCalls } from './router-calls.js';

// Eleven processes start slowly on a loaded 2-core machine: more room than .taprc's 120 s.
t.setTimeout(240_000);
const cluster = await ProcessCluster.startFor(t);
const router = new RouterCalls(cluster.routerUrl());

function readAt(path: string, ringVersion: number): ShardRequest {
  return { op: 'read', read: 'getData', path, consistency: 'stale', ringVersion };
}

async function movedError(promise: Promise<unknown>): Promise<ShardkvError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ShardkvError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}

t.test('every node created through the router is on the group the ring gives its directory, and only there', async (t) => {
  const paths: string[] = [];
  for (let dir = 0; dir < 24; dir++) for (let node = 0; node < 5; node++) paths.push(`/spread/dir-${dir}/node-${node}`);
  for (let at = 0; at < paths.length; at += 24) {
    const created = await Promise.all(paths.slice(at, at + 24).map((path) => router.create(path, `value of ${path}`)));
    for (const reply of created) t.equal(reply.status, 201, `created ${reply.body.path}`);
  }
  const ring = await cluster.ring();
  const owners = new Map(paths.map((path) => [path, ring.ownerOf(placementKey(path))]));
  t.same(new Set(owners.values()), new Set(cluster.groups), 'the directories are spread over both groups');
  let checked = 0;
  for (const [path, owner] of owners) {
    const reply = await cluster.shardRequest<ShardReadReply>(owner, readAt(path, ring.version));
    if (reply.stat === null || Buffer.from(reply.data ?? []).toString() !== `value of ${path}`) {
      t.fail(`${path} is not on its owner ${owner}`);
      continue;
    }
    const other = cluster.groups.find((group) => group !== owner) as string;
    const refused = await movedError(cluster.shardRequest(other, readAt(path, ring.version)));
    if (refused.code !== 'MOVED') t.fail(`${other} answered ${refused.code}, not MOVED, for ${path}`);
    else checked++;
  }
  t.equal(checked, paths.length, 'each node is readable on its owner and MOVED on the other group');
});

t.test('a directory lists every child even when its own node is placed on the other group', async (t) => {
  const ring = await cluster.ring();
  const dirs = Array.from({ length: 12 }, (_, i) => `/listing/dir-${i}`);
  const split = dirs.filter((dir) => ring.ownerOf(dir) !== ring.ownerOf(placementKey(dir)));
  t.ok(split.length > 0, `${split.length} of the directories have their children on another group than their own node`);
  for (const dir of dirs) {
    for (const name of ['c1', 'c2', 'c3']) t.equal((await router.create(`${dir}/${name}`, 'x')).status, 201);
  }
  for (const dir of dirs) {
    const listed = await router.children(dir);
    t.equal(listed.status, 200);
    t.same(listed.body.children, ['c1', 'c2', 'c3'], `children of ${dir}`);
  }
});

t.test('a group answers MOVED with its own ring version to a request routed by an old ring', async (t) => {
  const ring = await cluster.ring();
  const path = '/moved/old-ring/node';
  t.equal((await router.create(path, 'x')).status, 201);
  const owner = ring.ownerOf(placementKey(path));
  const other = cluster.groups.find((group) => group !== owner) as string;
  const refused = await movedError(cluster.shardRequest(other, readAt(path, 0)));
  t.equal(refused.code, 'MOVED');
  t.equal(refused.details?.ringVersion, ring.version, 'MOVED carries the group\'s ring version');
  t.equal(refused.details?.owner, owner, 'MOVED names the owner');
  const served = await cluster.shardRequest<ShardReadReply>(owner, readAt(path, 0));
  t.equal(served.ringVersion, ring.version, 'the owner serves an old-ring request and shows its newer ring version');
  t.not(served.stat, null);
});

t.test('a router with a stale ring follows MOVED to the new owner and counts the retries', async (t) => {
  const before = await cluster.ring();
  const moved_before = await router.counter('shardkv_router_moved_retries_total');
  // Idle keep-alive connections to the router: requests sent on them while it is paused are
  // read in the same event-loop turn as the ring's watch event, before it can re-read /ring.
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  t.teardown(() => agent.destroy());
  const warm = await Promise.all(Array.from({ length: 16 }, () => router.send('GET', '/healthz', undefined, agent).answer));
  t.same(warm.map((reply) => reply.status), warm.map(() => 200));

  // Behind the paused router's back: the same ring with the two groups' tokens swapped.
  cluster.pause('router-1');
  let resumed = false;
  t.teardown(() => {
    if (!resumed) cluster.resume('router-1');
  });
  const meta = cluster.metaClient();
  const { data, stat } = await meta.getData(RING_PATH);
  const doc = JSON.parse(Buffer.from(data).toString()) as RingDocument;
  const [g1, g2] = cluster.groups as [string, string];
  const swapped: RingDocument = {
    version: doc.version + 1,
    vnodesPerGroup: doc.vnodesPerGroup,
    groups: { [g1]: doc.groups[g2]!, [g2]: doc.groups[g1]! },
  };
  await meta.setData(RING_PATH, Buffer.from(JSON.stringify(swapped)), stat.version);
  for (const group of cluster.groups) {
    for (const id of cluster.replicaIds(group)) {
      await waitFor(`${group}/${id} to see ring ${swapped.version}`, async () =>
        (await cluster.status(group, id)).ringVersion === swapped.version, 30_000, 50);
    }
  }
  // Sent while the router is still paused, so they wait in its sockets beside the watch event.
  const paths = Array.from({ length: 16 }, (_, i) => `/moved/stale-router/dir-${i}/node`);
  const requests = paths.map((path) => router.send('POST', `/v1/nodes${path}`, path, agent));
  await Promise.all(requests.map((request) => request.written));
  cluster.resume('router-1');
  resumed = true;
  const created = await Promise.all(requests.map((request) => request.answer));
  t.same(created.map((reply) => reply.status), paths.map(() => 201), 'every create routed by the stale ring succeeded');
  const after = await cluster.ring();
  t.equal(after.version, before.version + 1);
  for (const path of paths) {
    const owner = after.ownerOf(placementKey(path));
    t.not(owner, before.ownerOf(placementKey(path)), `${path} changed owner with the swap`);
    const reply = await cluster.shardRequest<ShardReadReply>(owner, readAt(path, after.version));
    t.not(reply.stat, null, `${path} is on its new owner ${owner}`);
  }
  const moved_after = await router.counter('shardkv_router_moved_retries_total');
  t.ok(moved_after > moved_before, `MOVED retries went from ${moved_before} to ${moved_after}`);
  const view = (await (await fetch(`${cluster.routerUrl()}/v1/ring`)).json()) as { version: number };
  t.equal(view.version, after.version, 'the router now routes by the new ring');
});
