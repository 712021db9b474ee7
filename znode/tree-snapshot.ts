/**
 * Snapshot chunks of a TreeState, and the restore from them.
 *
 * Fuzzy like ZooKeeper's: the chunks are produced lazily, possibly across many event-loop
 * turns while txns keep being applied. The header records lastZxid when the first chunk is
 * taken; every item is captured as it is when its chunk is taken (JavaScript Map iteration
 * visits entries added meanwhile and skips those deleted before it reaches them, so a path
 * deleted and re-created meanwhile may appear twice, the later one newer). Since every
 * txn is an idempotent state-setting effect, restoring the chunks and replaying each txn after
 * startZxid yields the exact tree.
 *
 * Child lists are not stored: restore rebuilds them from the node paths.
 */
import { ShardkvError } from '../errors/codes.js';
import { ROOT_PATH } from '../ring/path.js';
import { nameOf, parentOf, TreeState, type NodeRecord } from './tree-state.js';
import type { Hierarchy, NodeKind } from './types.js';

export const SNAPSHOT_FORMAT = 1;

/**
 * One node as a tuple (compact whatever the codec's settings):
 * [path, data, czxid, mzxid, ctime, mtime, version, aversion, kind, ephemeralOwner, ttl_ms].
 */
export type SnapshotNode = [
  path: string,
  data: Uint8Array,
  czxid: number,
  mzxid: number,
  ctime: number,
  mtime: number,
  version: number,
  aversion: number,
  kind: NodeKind,
  ephemeralOwner: number,
  ttl_ms: number,
];

export type SnapshotChunk =
  | { kind: 'header'; format: number; hierarchy: Hierarchy; startZxid: number }
  /** [sessionId, timeout_ms] */
  | { kind: 'sessions'; sessions: Array<[number, number]> }
  /** [path, creates, pzxid] */
  | { kind: 'dirs'; dirs: Array<[string, number, number]> }
  | { kind: 'nodes'; nodes: SnapshotNode[] }
  | { kind: 'end'; dirCount: number; nodeCount: number };

export function* serialiseState(state: TreeState, entriesPerChunk: number): Generator<SnapshotChunk> {
  if (!Number.isInteger(entriesPerChunk) || entriesPerChunk < 1) {
    throw new ShardkvError('BAD_ARGUMENTS', `entriesPerChunk must be a positive integer, got ${entriesPerChunk}`);
  }
  yield { kind: 'header', format: SNAPSHOT_FORMAT, hierarchy: state.hierarchy, startZxid: state.lastZxid };
  yield { kind: 'sessions', sessions: [...state.sessions.entries()] };

  let dirCount = 0;
  let dirs: Array<[string, number, number]> = [];
  for (const [path, dir] of state.dirs) {
    dirs.push([path, dir.creates, dir.pzxid]);
    dirCount += 1;
    if (dirs.length === entriesPerChunk) {
      yield { kind: 'dirs', dirs };
      dirs = [];
    }
  }
  if (dirs.length > 0) yield { kind: 'dirs', dirs };

  let nodeCount = 0;
  let nodes: SnapshotNode[] = [];
  for (const [path, node] of state.nodes) {
    // Copy the fields now: the record is mutated in place by later setData txns.
    nodes.push([
      path,
      node.data,
      node.czxid,
      node.mzxid,
      node.ctime,
      node.mtime,
      node.version,
      node.aversion,
      node.kind,
      node.ephemeralOwner,
      node.ttl_ms,
    ]);
    nodeCount += 1;
    if (nodes.length === entriesPerChunk) {
      yield { kind: 'nodes', nodes };
      nodes = [];
    }
  }
  if (nodes.length > 0) yield { kind: 'nodes', nodes };
  yield { kind: 'end', dirCount, nodeCount };
}

function corrupt(message: string): ShardkvError {
  return new ShardkvError('CORRUPT_SNAPSHOT', message);
}

export function restoreState(chunks: Iterable<SnapshotChunk>, hierarchy: Hierarchy): TreeState {
  const state = new TreeState(hierarchy);
  let sawHeader = false;
  let sawEnd = false;
  let dirCount = 0;
  let nodeCount = 0;
  for (const chunk of chunks) {
    if (sawEnd) throw corrupt('snapshot has chunks after its end');
    if (!sawHeader && chunk.kind !== 'header') throw corrupt(`snapshot starts with a ${chunk.kind} chunk, not a header`);
    switch (chunk.kind) {
      case 'header':
        if (sawHeader) throw corrupt('snapshot has two headers');
        if (chunk.format !== SNAPSHOT_FORMAT) throw corrupt(`snapshot format ${chunk.format} is not ${SNAPSHOT_FORMAT}`);
        if (chunk.hierarchy !== hierarchy) {
          throw corrupt(`snapshot of a ${chunk.hierarchy} tree cannot restore a ${hierarchy} tree`);
        }
        state.lastZxid = chunk.startZxid;
        sawHeader = true;
        break;
      case 'sessions':
        for (const [sessionId, timeout_ms] of chunk.sessions) state.sessions.open(sessionId, timeout_ms);
        break;
      case 'dirs':
        for (const [path, creates, pzxid] of chunk.dirs) {
          state.dirs.set(path, { children: new Set(), creates, pzxid });
          dirCount += 1;
        }
        break;
      case 'nodes':
        for (const [path, data, czxid, mzxid, ctime, mtime, version, aversion, kind, ephemeralOwner, ttl_ms] of chunk.nodes) {
          const node: NodeRecord = { data, czxid, mzxid, ctime, mtime, version, aversion, kind, ephemeralOwner, ttl_ms };
          // A path deleted and re-created while the snapshot ran appears twice: the later
          // capture is the newer node, and the older one's index entry must go.
          const older = state.nodes.get(path);
          if (older !== undefined) state.unindex(path, older);
          state.nodes.set(path, node);
          state.index(path, node);
          nodeCount += 1;
        }
        break;
      case 'end':
        if (chunk.dirCount !== dirCount || chunk.nodeCount !== nodeCount) {
          throw corrupt(
            `snapshot end says ${chunk.dirCount} dirs and ${chunk.nodeCount} nodes, read ${dirCount} and ${nodeCount}`,
          );
        }
        sawEnd = true;
        break;
      default:
        throw corrupt(`unknown snapshot chunk kind ${(chunk as { kind: unknown }).kind}`);
    }
  }
  if (!sawEnd) throw corrupt('snapshot is truncated (no end chunk)');
  // A directory made after the directory pass has no entry: it starts empty, and the replay
  // of the txns that made it sets its counter and pzxid.
  for (const path of state.nodes.keys()) {
    if (path !== ROOT_PATH) state.dirFor(parentOf(path)).children.add(nameOf(path));
  }
  return state;
}
