// Snapshots: chunked serialise/restore, and fuzzy snapshots + log replay giving the exact tree.
import { pack, unpack } from 'msgpackr';
import t from 'tap';
import type { Hierarchy, Request, SnapshotChunk, ZnodeTree } from '../../znode/index.js';
import { bytes, ReplicaHarness } from './replica-harness.js';

/** A small seeded generator (mulberry32): the same seed gives the same run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The tree's full state with data as hex, so that Buffer and Uint8Array compare alike. */
function canonical(tree: ZnodeTree): unknown {
  const dump = tree.dump();
  return { ...dump, nodes: dump.nodes.map((node) => ({ ...node, data: Buffer.from(node.data).toString('hex') })) };
}

/** As stored: every chunk goes through msgpack when it is taken. */
function stored(chunk: SnapshotChunk): SnapshotChunk {
  return unpack(pack(chunk)) as SnapshotChunk;
}

const NAMES = ['a', 'b', 'c'];

/** One random write; invalid ones (refused by prepare) are simply not logged. */
function randomWrite(r: ReplicaHarness, random: () => number): void {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  const randomPath = (): string => {
    const depth = 1 + Math.floor(random() * 3);
    let path = '';
    for (let level = 0; level < depth; level += 1) path += `/${pick(NAMES)}`;
    return path;
  };
  const existing = (): string => {
    const nodes = r.tree.dump().nodes.map((node) => node.path).filter((path) => path !== '/');
    return nodes.length === 0 ? randomPath() : pick(nodes);
  };
  const sessions = [1, 2, 3];
  const roll = random();
  let request: Request;
  let sessionId = 0;
  if (roll < 0.3) {
    request = { op: 'create', path: randomPath(), data: bytes(String(r.zxid)), mode: 'persistent' };
  } else if (roll < 0.4) {
    request = { op: 'create', path: `${randomPath()}-`, data: bytes('s'), mode: 'persistent_sequential' };
  } else if (roll < 0.5) {
    sessionId = pick(sessions);
    request = { op: 'create', path: randomPath(), data: bytes('e'), mode: 'ephemeral' };
  } else if (roll < 0.65) {
    request = { op: 'setData', path: existing(), data: bytes(`v${r.zxid}`), version: -1 };
  } else if (roll < 0.85) {
    request = { op: 'delete', path: existing(), version: -1 };
  } else if (roll < 0.92) {
    request = {
      op: 'multi',
      ops: [
        { op: 'delete', path: existing(), version: -1 },
        { op: 'create', path: randomPath(), data: bytes('m'), mode: 'persistent' },
        { op: 'setData', path: existing(), data: bytes('m2'), version: -1 },
      ],
    };
  } else if (roll < 0.96) {
    request = { op: 'createSession', sessionId: pick(sessions), timeout_ms: 1_000 };
  } else {
    request = { op: 'closeSession', sessionId: pick(sessions) };
  }
  r.now_ms += 1 + Math.floor(random() * 10);
  try {
    r.write(request, sessionId);
  } catch (error) {
    if (!(error instanceof Error && 'code' in error)) throw error;
  }
}

/**
 * Builds a tree, takes a snapshot chunk by chunk with random writes between the chunks,
 * restores it into a fresh tree, replays the log after the snapshot's start zxid, and
 * compares with the tree that applied everything straight.
 */
function fuzzySnapshotRun(hierarchy: Hierarchy, seed: number): { straight: unknown; restored: unknown; chunks: number } {
  const random = seededRandom(seed);
  const r = new ReplicaHarness({ hierarchy });
  for (let session = 1; session <= 3; session += 1) r.openSession(session, 1_000);
  for (let step = 0; step < 60; step += 1) randomWrite(r, random);

  const chunks: SnapshotChunk[] = [];
  for (const chunk of r.tree.serialise(2)) {
    chunks.push(stored(chunk));
    const writes = Math.floor(random() * 4);
    for (let step = 0; step < writes; step += 1) randomWrite(r, random);
  }
  for (let step = 0; step < 20; step += 1) randomWrite(r, random);

  const header = chunks[0];
  if (header?.kind !== 'header') throw new Error('no header chunk');
  const copy = new ReplicaHarness({ hierarchy });
  copy.tree.restore(chunks);
  for (const entry of r.log) {
    if (entry.zxid > header.startZxid) copy.tree.apply(entry.txn, entry.zxid, entry.time_ms);
  }
  return { straight: canonical(r.tree), restored: canonical(copy.tree), chunks: chunks.length };
}

for (const hierarchy of ['strict', 'implicit'] as const) {
  t.test(`${hierarchy}: fuzzy snapshot + replay after its start zxid equals the straight tree (500 seeds)`, async (t) => {
    let fuzzyChunks = 0;
    for (let seed = 1; seed <= 500; seed += 1) {
      const { straight, restored, chunks } = fuzzySnapshotRun(hierarchy, seed);
      fuzzyChunks += chunks;
      t.same(restored, straight, `seed ${seed}`);
      if (t.passing() === false) {
        t.comment(`failing seed: ${seed}`);
        break;
      }
    }
    t.ok(fuzzyChunks > 500 * 4, 'the snapshots really were taken over many chunks');
  });
}

t.test('a snapshot of a quiet tree restores the same tree and lastZxid', async (t) => {
  const r = new ReplicaHarness();
  r.openSession(5);
  r.create('/a', 'x');
  r.create('/a/b', 'y', 'ephemeral', 5);
  r.create('/c', '', 'container');
  r.create('/t', '', 'persistent_with_ttl', 0, 50);
  const copy = new ReplicaHarness();
  copy.tree.restore([...r.tree.serialise(1)].map(stored));
  t.same(canonical(copy.tree), canonical(r.tree));
  t.equal(copy.tree.lastZxid, r.tree.lastZxid);
  t.same(copy.tree.sessionEphemerals(5), ['/a/b'], 'the ephemeral index is rebuilt');
  t.same(copy.tree.expiredTtlNodes(1_000_000), ['/t'], 'the TTL index is rebuilt');
});

t.test('a snapshot is produced in chunks of the requested size', async (t) => {
  const r = new ReplicaHarness();
  for (let index = 0; index < 10; index += 1) r.create(`/n${index}`);
  const nodeChunks = [...r.tree.serialise(4)].filter((chunk) => chunk.kind === 'nodes');
  t.same(
    nodeChunks.map((chunk) => (chunk.kind === 'nodes' ? chunk.nodes.length : 0)),
    [4, 4, 3],
  );
});

t.test('a truncated snapshot is refused with CORRUPT_SNAPSHOT', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  const chunks = [...r.tree.serialise()];
  t.throws(() => new ReplicaHarness().tree.restore(chunks.slice(0, -1)), { code: 'CORRUPT_SNAPSHOT' });
  t.throws(() => new ReplicaHarness().tree.restore(chunks.slice(1)), { code: 'CORRUPT_SNAPSHOT' });
});

t.test('a snapshot whose end count disagrees is refused with CORRUPT_SNAPSHOT', async (t) => {
  const r = new ReplicaHarness();
  r.create('/a');
  const chunks = [...r.tree.serialise()].filter((chunk) => chunk.kind !== 'nodes');
  t.throws(() => new ReplicaHarness().tree.restore(chunks), { code: 'CORRUPT_SNAPSHOT' });
});

t.test('the node deleted and re-created during the snapshot comes back as the new incarnation', async (t) => {
  const r = new ReplicaHarness();
  r.create('/p');
  r.create('/p/c', 'old');
  const chunks: SnapshotChunk[] = [];
  const snapshot = r.tree.serialise(1);
  // header, sessions, then dirs: the first nodes chunk comes after these.
  for (let step = 0; step < 5; step += 1) {
    const next = snapshot.next();
    if (!next.done) chunks.push(stored(next.value));
  }
  r.delete('/p/c');
  r.delete('/p');
  r.create('/p');
  r.create('/p/c', 'new');
  for (const chunk of snapshot) chunks.push(stored(chunk));
  const header = chunks[0];
  if (header?.kind !== 'header') throw new Error('no header chunk');
  const copy = new ReplicaHarness();
  copy.tree.restore(chunks);
  for (const entry of r.log) if (entry.zxid > header.startZxid) copy.tree.apply(entry.txn, entry.zxid, entry.time_ms);
  t.same(canonical(copy.tree), canonical(r.tree));
  t.equal(copy.tree.exists('/p')?.cversion, 1);
});

t.test('a path captured twice restores as its later node, not indexed as the earlier ephemeral', async (t) => {
  const r = new ReplicaHarness();
  r.openSession(2);
  r.create('/b', 'old', 'ephemeral', 2);
  const chunks: SnapshotChunk[] = [];
  const snapshot = r.tree.serialise(1);
  const holds = (chunk: SnapshotChunk, path: string): boolean =>
    chunk.kind === 'nodes' && chunk.nodes.some((node) => node[0] === path);
  for (let step = 0; step < 20 && !chunks.some((chunk) => holds(chunk, '/b')); step += 1) {
    const next = snapshot.next();
    if (!next.done) chunks.push(stored(next.value));
  }
  t.ok(chunks.some((chunk) => holds(chunk, '/b')), 'the ephemeral /b was captured');
  r.delete('/b');
  r.create('/b', 'new');
  for (const chunk of snapshot) chunks.push(stored(chunk));
  t.equal(chunks.filter((chunk) => holds(chunk, '/b')).length, 2, '/b appears twice');
  r.write({ op: 'closeSession', sessionId: 2 });
  const header = chunks[0];
  if (header?.kind !== 'header') throw new Error('no header chunk');
  const copy = new ReplicaHarness();
  copy.tree.restore(chunks);
  for (const entry of r.log) if (entry.zxid > header.startZxid) copy.tree.apply(entry.txn, entry.zxid, entry.time_ms);
  t.equal(copy.tree.exists('/b')?.ephemeralOwner, 0, 'closing session 2 left the persistent /b');
  t.same(canonical(copy.tree), canonical(r.tree));
});
