// Stage 1 of rebalancing over the in-process bus with real replicas: one transfer (copy, tail,
// fence, tail to the fence, ring commit, drop) while writes run.
import t, { type Test } from 'tap';
import type { ShardReadReply, ShardSessionReply, ShardReplyHeader } from '../../protocol/shard.js';
import { diffRings, type Ring } from '../../ring/index.js';
import { placementKey } from '../../ring/path.js';
import { RangeMover } from '../../router/rebalance/range-mover.js';
import { rangeToText } from '../../znode/range-transfer.js';
import { sessionPlacementKey } from '../../protocol/shard.js';
import { InProcessCluster, type RouterKit } from './in-process-cluster.js';
import { waitFor } from '../support/wait.js';
import { WriteLoad } from './write-load.js';

async function verifyAcked(t: Test, kit: RouterKit, load: WriteLoad): Promise<void> {
  let wrong = 0;
  for (const [path, acked] of load.acked) {
    const reply = await kit.forwarder.send<ShardReadReply>(placementKey(path), { op: 'read', read: 'getData', path, consistency: 'linearizable' }, true);
    const value = new TextDecoder().decode(reply.data ?? new Uint8Array(0));
    if (value !== acked.value || reply.stat?.version !== acked.version) {
      wrong += 1;
      if (wrong < 5) t.comment(`${path}: read ${value} v${reply.stat?.version}, acked ${acked.value} v${acked.version}`);
    }
  }
  t.equal(wrong, 0, `all ${load.acked.size} acknowledged keys read back with their last value and version`);
}

function checkSequential(t: Test, load: WriteLoad): void {
  let bad = 0;
  for (const [, names] of load.sequential) {
    const suffixes = names.map((name) => Number(name.slice(-10)));
    if (new Set(suffixes).size !== suffixes.length || suffixes.some((s, i) => s !== i)) bad += 1;
  }
  t.equal(bad, 0, 'sequential names in every directory are unique and gap-free');
}

async function ownership(cluster: InProcessCluster, ring: Ring, groups: string[]): Promise<number> {
  let misplaced = 0;
  for (const group of groups) {
    for (const path of (await cluster.nodesOf(group)).keys()) if (ring.ownerOfPath(path) !== group) misplaced += 1;
  }
  return misplaced;
}

t.test('a range transfer under a write load loses no acknowledged write and leaves each key on its new owner', async (t) => {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1'], spareGroups: ['g2'] });
  t.teardown(() => cluster.stop());
  const kit = await cluster.router();
  const load = new WriteLoad(kit.forwarder, { workers: 4, keysPerWorker: 40, maxOps: 5000 });
  await load.seed();
  const sessionIds = [11, 22, 33, 44, 55, 66, 77, 88];
  for (const sessionId of sessionIds) {
    await kit.forwarder.send<ShardSessionReply>(sessionPlacementKey(sessionId), { op: 'createSession', sessionId, timeout_ms: 30_000 }, false);
  }
  load.start();

  const ring = kit.ring.ring;
  const next = ring.withGroupAdded('g2');
  const moves = diffRings(ring, next);
  t.ok(moves.length > 0 && moves.every((move) => move.from === 'g1' && move.to === 'g2'));
  const mover = new RangeMover(kit.leaders, {
    id: 'm1', from: 'g1', to: 'g2', ranges: moves.map(rangeToText), toRingVersion: next.version,
  }, { rate_bytes_per_s: 0, pageEntries: 50 });
  await mover.copyAndTail();
  t.ok(mover.progress.keysCopied > 0, `copied ${mover.progress.keysCopied} keys`);
  await mover.fenceAndFinish();
  const fenced_ms = Date.now();
  await kit.ringAdmin.update((current) => (current.version === ring.version ? next : undefined));
  const window_ms = Date.now() - fenced_ms;
  await kit.ring.atLeast(next.version);
  await mover.drop();
  // Keep writing a little on the new ring.
  const opsAtCommit = load.ops;
  await waitFor('40 more writes on the new ring', () => load.ops >= opsAtCommit + 40 || undefined, 20_000);
  await load.stop();
  t.comment(`ops ${load.ops} (${load.ops - opsAtCommit} after commit), fence->commit ${window_ms} ms, errors ${load.errors.length}`);
  t.same(load.errors.slice(0, 3), [], 'no write failed during the move');
  await verifyAcked(t, kit, load);
  checkSequential(t, load);
  t.equal(await ownership(cluster, next, ['g1', 'g2']), 0, 'every node is on its owner at the new ring, and only there');
  for (const sessionId of sessionIds) {
    await kit.forwarder.send<ShardReplyHeader>(sessionPlacementKey(sessionId), { op: 'keepalive', sessionId }, true);
  }
  t.pass('every session is alive on its owner at the new ring');
});
