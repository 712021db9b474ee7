// Known gap 1 of rebalancing, closed: a session placed in a moving range is decided (expired) by
// exactly one group at a time. From the fence the source no longer expires it; the target starts
// deciding when the ring hands it the range, counting the timeout from then. Here the move waits
// between fence and ring commit for more than the session timeout.
import t, { type Test } from 'tap';
import type { SessionsAliveReply, ShardReadReply, ShardSessionReply, ShardWriteReply } from '../../protocol/shard.js';
import { sessionPlacementKey } from '../../protocol/shard.js';
import { diffRings, type Ring } from '../../ring/index.js';
import { placementKey } from '../../ring/path.js';
import { RangeMover } from '../../router/rebalance/range-mover.js';
import type { UnversionedShardRequest } from '../../router/shard-forwarder.js';
import { rangeToText } from '../../znode/range-transfer.js';
import { waitFor } from '../support/wait.js';
import { InProcessCluster, type RouterKit } from './in-process-cluster.js';

const TIMEOUT_MS = 1500;

/** The first `count` ids from `from` on whose placement key `next` gives to `owner`. */
function idsOwnedBy(next: Ring, owner: string, count: number, key: (id: number) => string): number[] {
  const ids: number[] = [];
  for (let id = 1; ids.length < count && id < 10_000; id++) if (next.ownerOf(key(id)) === owner) ids.push(id);
  return ids;
}

async function exists(kit: RouterKit, path: string): Promise<boolean> {
  const reply = await kit.forwarder.send<ShardReadReply>(placementKey(path), { op: 'read', read: 'exists', path, consistency: 'linearizable' }, true);
  return reply.stat !== null;
}

async function createEphemeral(kit: RouterKit, path: string, sessionId: number): Promise<void> {
  const reply = await kit.forwarder.send<ShardWriteReply>(placementKey(path), {
    op: 'create', path, data: new Uint8Array(0), mode: 'ephemeral', sessionId,
  }, false);
  if (reply.result.type !== 'create') throw new Error(`create ${path}: ${reply.result.type}`);
}

/** Keepalives one after another, until stopped: `send` is one keepalive. */
function pinger(send: () => Promise<unknown>): { stop: () => Promise<void>; acked: () => number } {
  let running = true;
  let acked = 0;
  const loop = (async () => {
    for (let round = 0; running && round < 10_000; round++) {
      try {
        await send();
        acked += 1;
      } catch {
        // MOVED/UNAVAILABLE while the range is fenced: a client keeps trying.
      }
      await new Promise((resolve) => setTimeout(resolve, 150)); // the client's ping interval
    }
  })();
  return { stop: async () => { running = false; await loop; }, acked: () => acked };
}

function sessionsOn(cluster: InProcessCluster, group: string, leader: string): number {
  return cluster.shards.get(group)!.find((entry) => entry.nodeId === leader)!.replica!.status().sessions;
}

/** A request straight to a group's leader (no MOVED handling). */
function toLeader<Reply>(cluster: InProcessCluster, kit: RouterKit, group: string, request: UnversionedShardRequest): Promise<Reply> {
  return kit.transport.request<Reply>(cluster.subjects.groupLeader(group), { ...request, ringVersion: kit.ring.ring.version }, {
    timeout_ms: 5_000, noRespondersCode: 'NO_LEADER',
  });
}

async function aliveOn(cluster: InProcessCluster, kit: RouterKit, group: string, sessionId: number): Promise<boolean> {
  const reply = await toLeader<SessionsAliveReply>(cluster, kit, group, { op: 'sessionsAlive', sessionIds: [sessionId] });
  return reply.alive.includes(sessionId);
}

async function setUp(t: Test) {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1'], spareGroups: ['g2'] });
  t.teardown(() => cluster.stop());
  const kit = await cluster.router();
  const ring = kit.ring.ring;
  const next = ring.withGroupAdded('g2');
  const [pinging, silent] = idsOwnedBy(next, 'g2', 2, sessionPlacementKey);
  const [movingDir] = idsOwnedBy(next, 'g2', 1, (i) => `/gap-dir-${i}`).map((i) => `/gap-dir-${i}`);
  const [stayingDir] = idsOwnedBy(next, 'g1', 1, (i) => `/gap-dir-${i}`).map((i) => `/gap-dir-${i}`);
  for (const sessionId of [pinging!, silent!]) {
    await kit.forwarder.send<ShardSessionReply>(sessionPlacementKey(sessionId), { op: 'createSession', sessionId, timeout_ms: TIMEOUT_MS }, false);
  }
  const ephemerals = (sessionId: number): string[] => [`${movingDir}/e-${sessionId}`, `${stayingDir}/e-${sessionId}`];
  const mover = new RangeMover(kit.leaders, {
    id: 'gap1', from: 'g1', to: 'g2', ranges: diffRings(ring, next).map(rangeToText), toRingVersion: next.version,
  }, { rate_bytes_per_s: 0, pageEntries: 50 });
  return { cluster, kit, ring, next, pinging: pinging!, silent: silent!, ephemerals, mover };
}

t.test('a session in a moving range survives a fence-to-commit window longer than its timeout, and expires on the new owner once silent', async (t) => {
  const { cluster, kit, ring, next, pinging, silent, ephemerals, mover } = await setUp(t);
  // The pinging client goes through the router's forwarder (MOVED: refresh the ring and retry).
  const ping = pinger(() => kit.forwarder.send(sessionPlacementKey(pinging), { op: 'keepalive', sessionId: pinging }, true));
  t.teardown(() => ping.stop());
  // The silent one pings the source until the fence, and then stops for good.
  const source = await cluster.leaderOf('g1');
  const pingSource = pinger(() => toLeader(cluster, kit, 'g1', { op: 'keepalive', sessionId: silent }));
  t.teardown(() => pingSource.stop());
  for (const sessionId of [pinging, silent]) for (const path of ephemerals(sessionId)) await createEphemeral(kit, path, sessionId);

  await mover.copyAndTail();
  await mover.fenceAndFinish();
  await pingSource.stop();
  const fenced_ms = Date.now();
  const sourceLeader = await cluster.leaderOf('g1');
  t.equal(sourceLeader, source, 'the source kept its leader (its session liveness is in the leader\'s memory)');
  t.equal(sessionsOn(cluster, 'g1', sourceLeader), 2, 'the source holds both sessions at the fence');
  // The move waits here: more than twice the session timeout with the range fenced, while the
  // source's expiry check runs every 100 ms.
  await waitFor('a fence-to-commit window of 2.5 session timeouts', () => Date.now() - fenced_ms > 2.5 * TIMEOUT_MS, 10_000, 50);
  t.equal(sessionsOn(cluster, 'g1', sourceLeader), 2, 'the fenced source expired neither session');

  await kit.ringAdmin.update((current) => (current.version === ring.version ? next : undefined));
  const committed_ms = Date.now();
  const ackedAtCommit = ping.acked();
  await kit.ring.atLeast(next.version);
  t.ok(await aliveOn(cluster, kit, 'g2', silent), 'right after the commit the new owner still holds the silent session (its timeout starts at the handover)');
  await mover.drop();

  for (const path of ephemerals(pinging)) t.ok(await exists(kit, path), `${path} of the pinging session survived the move`);
  await waitFor('a keepalive acknowledged after the commit', () => ping.acked() > ackedAtCommit, 10_000);

  // The silent session expires on the new owner, and its ephemerals go on both groups.
  await waitFor('the silent session expired on the new owner', async () => !(await aliveOn(cluster, kit, 'g2', silent)), 10_000, 50);
  const expired_ms = Date.now() - committed_ms;
  t.ok(expired_ms >= TIMEOUT_MS - 200, `expired ${expired_ms} ms after the commit, not before its timeout of ${TIMEOUT_MS} ms`);
  for (const path of ephemerals(silent)) {
    await waitFor(`${path} of the expired session deleted`, async () => !(await exists(kit, path)), 10_000, 50);
  }
  t.pass('the silent session\'s ephemerals are gone on both groups');

  // The pinging one is still alive well past its timeout after the commit.
  await waitFor('two session timeouts after the commit', () => Date.now() - committed_ms > 2 * TIMEOUT_MS, 10_000, 50);
  t.ok(await aliveOn(cluster, kit, 'g2', pinging), 'the pinging session is still open on the new owner');
  for (const path of ephemerals(pinging)) t.ok(await exists(kit, path), `${path} still exists`);
  await ping.stop();
});
