/**
 * Sessions, ephemerals and watches across the two groups of a real multi-process cluster,
 * through the router: a session's ephemerals in directories of both groups vanish everywhere
 * when it expires or is closed, and watch events reach the session's event stream (SSE)
 * whichever group holds the node.
 */
import t from 'tap';
import type { ShardReadReply } from '../../protocol/shard.js';
import { placementKey } from '../../ring/index.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';
import { RouterCalls } from './router-calls.js';

// Eleven processes start slowly on a loaded 2-core machine: more room than .taprc's 120 s.
t.setTimeout(240_000);
const cluster = await ProcessCluster.startFor(t);
const router = new RouterCalls(cluster.routerUrl());

/** One directory per group (found by hashing candidate names on the ring). */
async function directoryPerGroup(prefix: string): Promise<Map<string, string>> {
  const ring = await cluster.ring();
  const dirs = new Map<string, string>();
  for (let i = 0; i < 64 && dirs.size < cluster.groups.length; i++) {
    const dir = `${prefix}/dir-${i}`;
    const owner = ring.ownerOf(placementKey(`${dir}/child`));
    if (!dirs.has(owner)) dirs.set(owner, dir);
  }
  if (dirs.size !== cluster.groups.length) throw new Error(`no directory found for every group: ${[...dirs.keys()].join(',')}`);
  return dirs;
}

/** Whether `path` exists on the group `group` (asked directly over NATS). */
async function existsOn(group: string, path: string): Promise<boolean> {
  const ring = await cluster.ring();
  const reply = await cluster.shardRequest<ShardReadReply>(group, { op: 'read', read: 'exists', path, consistency: 'linearizable', ringVersion: ring.version });
  return reply.stat !== null;
}

async function createEphemerals(sessionId: string, prefix: string): Promise<Array<{ group: string; path: string }>> {
  const nodes: Array<{ group: string; path: string }> = [];
  for (const [group, dir] of await directoryPerGroup(prefix)) {
    for (const name of ['a', 'b']) {
      const created = await router.create(`${dir}/${name}`, 'ephemeral', `mode=ephemeral&session=${sessionId}`);
      if (created.status !== 201) throw new Error(`create ${dir}/${name} answered ${created.status}: ${JSON.stringify(created.body)}`);
      nodes.push({ group, path: created.body.path });
    }
  }
  return nodes;
}

t.test('a session that stops its keepalives expires and its ephemerals vanish from every group', async (t) => {
  const sessionId = await router.openSession(5_000);
  // Kept alive while its ephemerals are made (a loaded machine can take over a second for that).
  const keepalive = setInterval(() => void router.keepalive(sessionId).catch(() => undefined), 500);
  let nodes: Array<{ group: string; path: string }>;
  try {
    nodes = await createEphemerals(sessionId, '/expiry');
  } finally {
    clearInterval(keepalive);
  }
  t.same(new Set(nodes.map((node) => node.group)), new Set(cluster.groups), 'ephemerals on both groups');
  for (const node of nodes) t.ok(await existsOn(node.group, node.path), `${node.path} exists on ${node.group}`);
  // No keepalives from here on.
  await waitFor('every ephemeral of the expired session to vanish', async () => {
    for (const node of nodes) if (await existsOn(node.group, node.path)) return false;
    return true;
  }, 60_000, 200);
  for (const node of nodes) t.equal((await router.get(node.path)).status, 404, `${node.path} is gone through the router`);
  const late = await router.keepalive(sessionId);
  t.equal(late.status, 404, 'keepalive of the expired session is 404');
  t.equal(late.body.code, 'SESSION_EXPIRED');
});

t.test('closing a session removes its ephemerals on every group at once', async (t) => {
  const sessionId = await router.openSession(60_000);
  const nodes = await createEphemerals(sessionId, '/closing');
  for (const node of nodes) t.ok(await existsOn(node.group, node.path), `${node.path} exists on ${node.group}`);
  const closedAt = Date.now();
  t.equal((await router.closeSession(sessionId)).status, 204);
  // The notice, not the session timeout (60 s), removes them: well within the timeout.
  await waitFor('every ephemeral of the closed session to vanish', async () => {
    for (const node of nodes) if (await existsOn(node.group, node.path)) return false;
    return true;
  }, 30_000, 50);
  t.pass(`all gone ${Date.now() - closedAt} ms after the close, long before the session timeout`);
  const late = await router.keepalive(sessionId);
  t.equal(late.status, 404);
  t.equal(late.body.code, 'SESSION_EXPIRED');
});

interface SseEvent {
  type: string;
  path: string;
}

/** Reads a session's SSE stream, collecting the JSON `data:` payloads of its events. */
async function openEventStream(sessionId: string): Promise<{ events: SseEvent[]; close: () => void; reading: Promise<void> }> {
  const abort = new AbortController();
  const events: SseEvent[] = [];
  const response = await fetch(`${cluster.routerUrl()}/v1/sessions/${sessionId}/events`, { signal: abort.signal });
  if (response.status !== 200 || response.body === null) throw new Error(`event stream answered ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
          if (data.length > 0) events.push(JSON.parse(data) as SseEvent);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { events, close: () => abort.abort(), reading };
}

t.test('watch events for nodes on each group arrive on the session event stream', async (t) => {
  const sessionId = await router.openSession(60_000);
  const keepalive = setInterval(() => void router.keepalive(sessionId).catch(() => undefined), 1_000);
  const stream = await openEventStream(sessionId);
  t.teardown(() => {
    clearInterval(keepalive);
    stream.close();
  });
  const dirs = await directoryPerGroup('/watched');
  for (const [group, dir] of dirs) {
    const node = `${dir}/node`;
    t.equal((await router.create(node, 'v0')).status, 201);
    const read = await router.get(node, `watch=1&session=${sessionId}`);
    t.equal(read.status, 200);
    t.equal((await router.set(node, 'v1')).status, 200);
    const changed = await waitFor(`NodeDataChanged for ${node} (${group})`, () =>
      stream.events.find((event) => event.type === 'NodeDataChanged' && event.path === node), 30_000);
    t.equal(changed.path, node, `data watch fired for the node on ${group}`);

    t.equal((await router.children(dir, `watch=1&session=${sessionId}`)).status, 200);
    t.equal((await router.create(`${dir}/another`, 'x')).status, 201);
    const childEvent = await waitFor(`NodeChildrenChanged for ${dir} (${group})`, () =>
      stream.events.find((event) => event.type === 'NodeChildrenChanged' && event.path === dir), 30_000);
    t.equal(childEvent.path, dir, `child watch fired for the directory on ${group}`);
  }
  // One-shot: a second change without a new watch sends nothing more for the node.
  const [firstDir] = [...dirs.values()] as [string];
  t.equal((await router.set(`${firstDir}/node`, 'v2')).status, 200);
  t.equal((await router.create(`${firstDir}/marker`, 'x', '')).status, 201);
  t.equal((await router.get(`${firstDir}/marker`, `watch=1&session=${sessionId}`)).status, 200);
  t.equal((await router.set(`${firstDir}/marker`, 'y')).status, 200);
  await waitFor('the marker event', () => stream.events.find((event) => event.path === `${firstDir}/marker`), 30_000);
  t.equal(stream.events.filter((event) => event.type === 'NodeDataChanged' && event.path === `${firstDir}/node`).length, 1,
    'exactly one NodeDataChanged for one watch (events of a group arrive in order, so the marker came after)');
});
