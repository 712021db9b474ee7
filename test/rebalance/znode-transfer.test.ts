// The rebalancing txns of the znode tree: importNodes (state-based, replay-safe), fence (the
// preparer refuses writes to a fenced range, applied or pending) and dropRange.
import t, { type Test } from 'tap';
import { FENCES_DIR, type PlacementHash, type RangeImage } from '../../znode/range-transfer.js';
import type { SnapshotNode } from '../../znode/index.js';
import { ShardkvError } from '../../errors/codes.js';
import { bytes, ReplicaHarness, text } from '../znode/replica-harness.js';

/** Keys under /moving hash into (0, 0x10]; everything else far away. */
const placement: PlacementHash = {
  ofKey: (key) => (key.startsWith('/moving') ? 5n : 1000n),
  ofSession: (sessionId) => (sessionId === 7 ? 6n : 2000n),
};
const MOVING: [string, string] = ['0000000000000000', '0000000000000010'];

function shard(): ReplicaHarness {
  const r = new ReplicaHarness({ hierarchy: 'implicit', sessionScope: 'external' });
  r.tree.usePlacementHash(placement);
  return r;
}

function node(path: string, data: string, czxid: number, mzxid: number, version: number): SnapshotNode {
  return [path, bytes(data), czxid, mzxid, 111, 222, version, 0, 'persistent', 0, 0];
}

function image(parts: Partial<RangeImage>): RangeImage {
  return { nodes: [], dirs: [], sessions: [], deletes: [], closedSessions: [], ...parts };
}

function movedError(t: Test, run: () => unknown, what: string): void {
  try {
    run();
    t.fail(`${what}: expected MOVED`);
  } catch (err) {
    t.ok(err instanceof ShardkvError && err.code === 'MOVED' && err.details?.fenced === true, `${what}: MOVED (fenced)`);
  }
}

t.test('importNodes sets nodes with their stat, directory counters and sessions exactly as given', async (t) => {
  const r = shard();
  r.write({ op: 'importNodes', image: image({
    nodes: [node('/moving/a', 'A', 40, 45, 3), ['/moving/e', bytes(''), 41, 41, 1, 1, 0, 0, 'ephemeral', 7, 0]],
    dirs: [['/moving', 9, 45]],
    sessions: [[7, 5000]],
  }) });
  const { data, stat } = r.tree.getData('/moving/a');
  t.equal(text(data), 'A');
  t.match(stat, { czxid: 40, mzxid: 45, version: 3, ctime: 111, mtime: 222 });
  t.equal(r.tree.exists('/moving/e')?.ephemeralOwner, 7);
  t.same(r.tree.sessionEphemerals(7), ['/moving/e']);
  t.ok(r.tree.hasSession(7));
  t.same(r.tree.getChildren('/moving').children, ['a', 'e']);
  t.equal(r.tree.directoryAt('/moving').creates, 9);
});

t.test('a sequential create after an import continues the imported counter', async (t) => {
  const r = shard();
  r.write({ op: 'importNodes', image: image({ nodes: [node('/q/n-0000000004', '', 5, 5, 0)], dirs: [['/q', 5, 5]] }) });
  t.equal(r.create('/q/n-', '', 'persistent_sequential'), '/q/n-0000000005');
});

t.test('directory counters are imported as the max of held and given', async (t) => {
  const r = shard();
  r.write({ op: 'importNodes', image: image({ dirs: [['/q', 8, 30]] }) });
  r.write({ op: 'importNodes', image: image({ dirs: [['/q', 3, 10]] }) });
  t.equal(r.tree.directoryAt('/q').creates, 8);
  t.equal(r.tree.getChildren('/q').directory.pzxid, 30);
});

t.test('replaying imports (same image twice, then a tail) gives the same tree', async (t) => {
  const first = image({ nodes: [node('/moving/a', 'A', 40, 40, 0), node('/moving/b', 'B', 41, 41, 0)], dirs: [['/moving', 2, 41]] });
  const tail = image({ nodes: [node('/moving/a', 'A2', 40, 50, 1)], deletes: ['/moving/b'] });
  const once = shard();
  once.write({ op: 'importNodes', image: first });
  once.write({ op: 'importNodes', image: tail });
  const twice = shard();
  twice.write({ op: 'importNodes', image: first });
  twice.write({ op: 'importNodes', image: first });
  twice.write({ op: 'importNodes', image: tail });
  twice.write({ op: 'importNodes', image: tail });
  const strip = (r: ReplicaHarness) => ({ ...r.tree.dump(), lastZxid: 0 });
  t.same(strip(twice), strip(once));
  t.equal(text(once.tree.getData('/moving/a').data), 'A2');
  t.equal(once.tree.exists('/moving/b'), null);
});

t.test('imports replay over a fuzzy snapshot to the same tree', async (t) => {
  const r = shard();
  r.write({ op: 'importNodes', image: image({ nodes: [node('/moving/a', 'A', 40, 40, 0)], dirs: [['/moving', 1, 40]] }) });
  const chunks = [...r.tree.serialise()];
  const from = r.zxid;
  r.write({ op: 'importNodes', image: image({ nodes: [node('/moving/a', 'A2', 40, 50, 1)] }) });
  r.write({ op: 'importNodes', image: image({ deletes: ['/moving/a'], nodes: [node('/moving/c', 'C', 51, 51, 0)] }) });
  const restored = shard();
  restored.tree.restore(chunks);
  for (const entry of r.log.filter((e) => e.zxid > from)) restored.tree.apply(entry.txn, entry.zxid, entry.time_ms);
  t.same(restored.tree.dump(), r.tree.dump());
});

t.test('after a fence, creates, sets, deletes and sessions in the range answer MOVED; others pass', async (t) => {
  const r = shard();
  r.create('/moving/a', 'x');
  r.write({ op: 'fence', fenceId: 'm1', ranges: [MOVING], toRingVersion: 4 });
  movedError(t, () => r.create('/moving/b', 'y'), 'create');
  movedError(t, () => r.setData('/moving/a', 'z'), 'setData');
  movedError(t, () => r.delete('/moving/a'), 'delete');
  movedError(t, () => r.write({ op: 'multi', ops: [{ op: 'check', path: '/moving/a', version: -1 }] }), 'multi');
  movedError(t, () => r.openSession(7), 'createSession');
  t.equal(r.create('/other/b', 'ok'), '/other/b');
  r.openSession(8);
  t.equal(text(r.tree.getData('/moving/a').data), 'x');
  try {
    r.create('/moving/b', 'y');
  } catch (err) {
    t.equal((err as ShardkvError).details?.ringVersion, 4, 'MOVED names the ring version that hands the range over');
  }
});

t.test('a fence refuses writes prepared after it even before it is applied', async (t) => {
  const r = shard();
  const fence = r.preparer.prepare({ op: 'fence', fenceId: 'm1', ranges: [MOVING], toRingVersion: 2 }, { zxid: 1, sessionId: 0, now_ms: 0 });
  movedError(t, () => r.preparer.prepare({ op: 'create', path: '/moving/x', data: bytes(''), mode: 'persistent' }, { zxid: 2, sessionId: 0, now_ms: 0 }), 'pending fence');
  r.commit(fence, 1);
  r.zxid = 1;
  movedError(t, () => r.create('/moving/x'), 'applied fence');
});

t.test('a fence survives a snapshot and restore', async (t) => {
  const r = shard();
  r.write({ op: 'fence', fenceId: 'm1', ranges: [MOVING], toRingVersion: 3 });
  const restored = shard();
  restored.tree.restore([...r.tree.serialise()]);
  restored.zxid = r.zxid;
  t.equal(restored.tree.fenceCovering(5n)?.toRingVersion, 3);
  movedError(t, () => restored.create('/moving/x'), 'restored fence');
});

t.test('clients cannot write under the reserved fences directory', async (t) => {
  const r = shard();
  t.throws(() => r.create(`${FENCES_DIR}/x`, '{}'), { code: 'BAD_PATH' });
});

t.test('dropRange deletes the nodes without watch events, drops empty directories and sessions, and keeps the fence', async (t) => {
  const r = shard();
  let ringVersion = 1;
  r.tree.useRingVersion(() => ringVersion);
  r.create('/moving/a', 'x');
  r.create('/moving/b', 'y');
  r.openSession(7);
  r.write({ op: 'fence', fenceId: 'm1', ranges: [MOVING], toRingVersion: 2 });
  r.tree.getData('/moving/a', 'w1');
  r.tree.getChildren('/moving', 'w1');
  const outcome = r.write({ op: 'dropRange', paths: ['/moving/a', '/moving/b'], dirs: ['/moving'], sessions: [7], fenceId: 'm1' });
  t.same(outcome.events, [], 'no watch fires');
  t.match(outcome.result, { type: 'dropRange', deleted: 2 });
  t.equal(r.tree.exists('/moving/a'), null);
  t.equal(r.tree.directoryAt('/moving').creates, 0, 'the empty directory record is gone');
  t.notOk(r.tree.hasSession(7));
  // A replica whose ring still predates the move (a new leader with a lagging ring watch) must
  // not take writes for the range its group handed over and dropped.
  movedError(t, () => r.create('/moving/c'), 'after the drop, at a ring older than the fence\'s');
  ringVersion = 2;
  t.equal(r.tree.fenceCovering(5n), undefined, 'at the ring that moved the range, the ring decides, not the fence');
  t.equal(r.create('/moving/c'), '/moving/c', 'the tree takes the write (the shard checks the ring\'s ownership first)');
  t.equal(r.tree.fences().length, 1, 'the fence stays as the record that the range left');
});
