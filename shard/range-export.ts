/**
 * The source side of a range move, on the group leader: exports of hash ranges in pages and,
 * for each export, a journal of the keys in the ranges that applied txns touched since the
 * export began, so the target can catch up ("tail") with their current state.
 *
 * An export's pages are not one consistent snapshot: each entry is read as it is when its page
 * is served. The journal starts before the first page, so every change that a page may have
 * missed is in a later tail, and tails are state-based (a node as it is now, or deleted): the
 * target ends exact once it has applied a tail taken after the source stopped changing (the
 * fence). The journal lives in the leader's memory: after a leader change the export is gone
 * and the mover starts the range again (EXPORT_LOST).
 */
import { ShardkvError } from '../errors/codes.js';
import { ROOT_PATH } from '../ring/path.js';
import { parentOf } from '../znode/tree-state.js';
import { FENCES_DIR, RESERVED_PREFIX, rangesContain, type HashRange, type PlacementHash, type RangeImage } from '../znode/range-transfer.js';
import type { SnapshotNode } from '../znode/tree-snapshot.js';
import type { SubTxnResult, TxnResult } from '../znode/types.js';
import type { ZnodeTree } from '../znode/znode-tree.js';

type ExportEntry = { kind: 'node'; path: string } | { kind: 'dir'; path: string } | { kind: 'session'; sessionId: number };

interface RangeExport {
  ranges: HashRange[];
  /** Keys in the ranges when the export began, sorted: what the pages walk. */
  entries: ExportEntry[];
  /** `n<path>` or `s<sessionId>` -> zxid of the last applied txn that touched it. */
  journal: Map<string, number>;
  startZxid: number;
  lastUsed_ms: number;
}

export interface ExportPage {
  zxid: number;
  startZxid: number;
  image: RangeImage;
  /** Where the next page starts, or null after the last one. */
  nextCursor: number | null;
  totalEntries: number;
  size_bytes: number;
}

export interface ExportTail {
  /** The tail covers every change up to this zxid; pass it as sinceZxid next time. */
  zxid: number;
  image: RangeImage;
  /** More changes wait beyond `zxid`. */
  more: boolean;
  size_bytes: number;
}

/** Exports unused this long are forgotten (a mover that died). */
const EXPORT_IDLE_MS = 5 * 60_000;
const MAX_EXPORTS = 64;

function isReserved(path: string): boolean {
  return path.startsWith(RESERVED_PREFIX) || path === '/__shardkv';
}

export function exportLost(exportId: string): ShardkvError {
  return new ShardkvError('UNAVAILABLE', `export ${exportId} is unknown here (the leader changed); start the range again`, {
    exportId, reason: 'EXPORT_LOST',
  });
}

function nodeImage(path: string, tree: ZnodeTree): SnapshotNode | undefined {
  const node = tree.nodeAt(path);
  if (node === undefined) return undefined;
  return [path, node.data, node.czxid, node.mzxid, node.ctime, node.mtime, node.version, node.aversion, node.kind, node.ephemeralOwner, node.ttl_ms];
}

function emptyImage(): RangeImage {
  return { nodes: [], dirs: [], sessions: [], deletes: [], closedSessions: [] };
}

export class RangeExports {
  private readonly exports = new Map<string, RangeExport>();

  constructor(
    private readonly tree: ZnodeTree,
    private readonly placement: PlacementHash,
  ) {}

  get activeCount(): number {
    return this.exports.size;
  }

  /** Whether a node path (placed by its parent) falls in `ranges`. */
  pathIn(ranges: readonly HashRange[], path: string): boolean {
    if (path === ROOT_PATH || isReserved(path)) return false;
    return rangesContain(ranges, this.placement.ofKey(parentOf(path)));
  }

  /** Every key of the tree in `ranges` now: node paths, directory paths, session ids. */
  keysIn(ranges: readonly HashRange[]): { nodes: string[]; dirs: string[]; sessions: number[] } {
    const keys = this.tree.keys();
    return {
      nodes: keys.nodes.filter((path) => this.pathIn(ranges, path)).sort(),
      dirs: keys.dirs.filter((path) => !isReserved(path) && path !== FENCES_DIR && rangesContain(ranges, this.placement.ofKey(path))).sort(),
      sessions: keys.sessions.filter((id) => rangesContain(ranges, this.placement.ofSession(id))).sort((a, b) => a - b),
    };
  }

  /** A page of the export `exportId`, beginning it at cursor 0 (again, if it existed). */
  page(exportId: string, ranges: HashRange[], cursor: number, limit: number, maxBytes: number, now_ms: number): ExportPage {
    let current = this.exports.get(exportId);
    if (cursor === 0) {
      this.forgetIdle(now_ms);
      if (this.exports.size >= MAX_EXPORTS && current === undefined) {
        throw new ShardkvError('UNAVAILABLE', `too many range exports at once (${MAX_EXPORTS})`);
      }
      const keys = this.keysIn(ranges);
      current = {
        ranges,
        entries: [
          ...keys.dirs.map((path): ExportEntry => ({ kind: 'dir', path })),
          ...keys.sessions.map((sessionId): ExportEntry => ({ kind: 'session', sessionId })),
          ...keys.nodes.map((path): ExportEntry => ({ kind: 'node', path })),
        ],
        journal: new Map(),
        startZxid: this.tree.lastZxid,
        lastUsed_ms: now_ms,
      };
      this.exports.set(exportId, current);
    }
    if (current === undefined) throw exportLost(exportId);
    current.lastUsed_ms = now_ms;
    const image = emptyImage();
    let size_bytes = 0;
    let at = cursor;
    while (at < current.entries.length && at - cursor < limit && size_bytes < maxBytes) {
      const entry = current.entries[at]!;
      at += 1;
      if (entry.kind === 'node') {
        const node = nodeImage(entry.path, this.tree);
        if (node === undefined) continue; // deleted since: the journal has it
        image.nodes.push(node);
        size_bytes += node[1].length + node[0].length + 64;
      } else if (entry.kind === 'dir') {
        const dir = this.tree.directoryRecord(entry.path);
        if (dir !== undefined) image.dirs.push(dir);
        size_bytes += entry.path.length + 16;
      } else {
        const timeout_ms = this.tree.sessionTimeout(entry.sessionId);
        if (timeout_ms !== undefined) image.sessions.push([entry.sessionId, timeout_ms]);
        size_bytes += 16;
      }
    }
    return {
      zxid: this.tree.lastZxid,
      startZxid: current.startZxid,
      image,
      nextCursor: at < current.entries.length ? at : null,
      totalEntries: current.entries.length,
      size_bytes,
    };
  }

  /** The current state of the keys changed after `sinceZxid` (at most about `limit` of them). */
  tail(exportId: string, sinceZxid: number, limit: number, now_ms: number): ExportTail {
    const current = this.exports.get(exportId);
    if (current === undefined) throw exportLost(exportId);
    current.lastUsed_ms = now_ms;
    const changed = [...current.journal].filter(([, zxid]) => zxid > sinceZxid).sort((a, b) => a[1] - b[1]);
    let taken = changed.length;
    if (taken > limit) {
      // Cut after a whole zxid, so the next tail starts at a clean boundary.
      taken = limit;
      while (taken < changed.length && changed[taken]![1] === changed[taken - 1]![1]) taken += 1;
    }
    const image = emptyImage();
    const dirs = new Set<string>();
    let size_bytes = 0;
    for (const [key] of changed.slice(0, taken)) {
      if (key[0] === 's') {
        const sessionId = Number(key.slice(1));
        const timeout_ms = this.tree.sessionTimeout(sessionId);
        if (timeout_ms === undefined) image.closedSessions.push(sessionId);
        else image.sessions.push([sessionId, timeout_ms]);
        size_bytes += 16;
        continue;
      }
      const path = key.slice(1);
      const node = nodeImage(path, this.tree);
      if (node === undefined) image.deletes.push(path);
      else image.nodes.push(node);
      size_bytes += (node?.[1].length ?? 0) + path.length + 64;
      dirs.add(parentOf(path));
    }
    for (const path of dirs) {
      const dir = this.tree.directoryRecord(path);
      if (dir !== undefined) image.dirs.push(dir);
    }
    const more = taken < changed.length;
    return { zxid: more ? changed[taken - 1]![1] : this.tree.lastZxid, image, more, size_bytes };
  }

  end(exportId: string): void {
    this.exports.delete(exportId);
  }

  /** Leadership lost or gained: journals started elsewhere are incomplete. */
  clear(): void {
    this.exports.clear();
  }

  /** Called for every applied txn on this replica: journal the keys it touched in each export's ranges. */
  onApplied(zxid: number, result: TxnResult): void {
    if (this.exports.size === 0) return;
    const paths: string[] = [];
    const sessions: number[] = [];
    const collect = (sub: SubTxnResult): void => {
      if (sub.type !== 'check') paths.push(sub.path);
    };
    switch (result.type) {
      case 'multi':
        result.results.forEach(collect);
        break;
      case 'createSession':
        sessions.push(result.sessionId);
        break;
      case 'closeSession':
        sessions.push(result.sessionId);
        paths.push(...result.deleted);
        break;
      case 'importNodes':
      case 'fence':
      case 'dropRange':
        return;
      default:
        collect(result);
    }
    for (const current of this.exports.values()) {
      for (const path of paths) if (this.pathIn(current.ranges, path)) current.journal.set(`n${path}`, zxid);
      for (const sessionId of sessions) {
        if (rangesContain(current.ranges, this.placement.ofSession(sessionId))) current.journal.set(`s${sessionId}`, zxid);
      }
    }
  }

  private forgetIdle(now_ms: number): void {
    for (const [exportId, current] of this.exports) if (now_ms - current.lastUsed_ms > EXPORT_IDLE_MS) this.exports.delete(exportId);
  }
}
