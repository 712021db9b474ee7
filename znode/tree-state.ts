/**
 * The tree's replicated state: nodes, directories, sessions, and the indexes derived from them.
 *
 * Nodes and directories are kept apart. A directory holds what ZooKeeper keeps on a parent
 * for its children: the child names, the create counter and pzxid. A directory record exists
 * once something was created in it. In strict mode it goes with its node (a new node starts
 * without one); in implicit mode it exists with or without a node at its own path and is never
 * dropped (its counter keeps sequential names unique).
 *
 * ZooKeeper's trick for cversion is kept: the stored counter counts child creates only (it
 * names sequential nodes and is what a create txn carries), and the client sees
 * cversion = 2 * creates - numChildren = creates + deletes.
 */
import { ROOT_PATH } from '../ring/path.js';
import { SessionTable } from './session-table.js';
import type { DirectoryStat, Hierarchy, NodeKind, Stat } from './types.js';

export interface NodeRecord {
  data: Uint8Array;
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  aversion: number;
  kind: NodeKind;
  ephemeralOwner: number;
  ttl_ms: number;
}

export interface DirRecord {
  children: Set<string>;
  /** Child creates so far (ZooKeeper's stored cversion); the next sequential suffix. */
  creates: number;
  pzxid: number;
}

/** Parent of a path already validated by ring/path.ts (no re-validation on hot paths). */
export function parentOf(path: string): string {
  const lastSlash = path.lastIndexOf('/');
  return lastSlash === 0 ? ROOT_PATH : path.slice(0, lastSlash);
}

/** Last component of a non-root path that is known to be valid. */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export class TreeState {
  readonly nodes = new Map<string, NodeRecord>();
  readonly dirs = new Map<string, DirRecord>();
  readonly sessions = new SessionTable();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  lastZxid = 0;

  constructor(readonly hierarchy: Hierarchy) {}

  /**
   * The directory at `path`, created empty when missing. Strict: it starts as its node's
   * (pzxid = the node's czxid), and a leaf node has no record at all, with the same stat.
   * Implicit: it is independent of any node at its path and starts at pzxid 0.
   */
  dirFor(path: string): DirRecord {
    let dir = this.dirs.get(path);
    if (dir === undefined) {
      const pzxid = this.hierarchy === 'strict' ? (this.nodes.get(path)?.czxid ?? 0) : 0;
      dir = { children: new Set(), creates: 0, pzxid };
      this.dirs.set(path, dir);
    }
    return dir;
  }

  /** Adds a node to the derived indexes (ephemerals by owner, containers, TTL nodes). */
  index(path: string, node: NodeRecord): void {
    if (node.kind === 'ephemeral') this.sessions.addEphemeral(node.ephemeralOwner, path);
    else if (node.kind === 'container') this.containers.add(path);
    else if (node.kind === 'ttl') this.ttls.add(path);
  }

  unindex(path: string, node: NodeRecord): void {
    if (node.kind === 'ephemeral') this.sessions.removeEphemeral(node.ephemeralOwner, path);
    else if (node.kind === 'container') this.containers.delete(path);
    else if (node.kind === 'ttl') this.ttls.delete(path);
  }

  statOf(path: string, node: NodeRecord): Stat {
    const dir = this.dirs.get(path);
    const numChildren = dir?.children.size ?? 0;
    return {
      czxid: node.czxid,
      mzxid: node.mzxid,
      pzxid: dir?.pzxid ?? node.czxid,
      ctime: node.ctime,
      mtime: node.mtime,
      version: node.version,
      cversion: 2 * (dir?.creates ?? 0) - numChildren,
      aversion: node.aversion,
      ephemeralOwner: node.kind === 'ephemeral' ? node.ephemeralOwner : 0,
      dataLength: node.data.length,
      numChildren,
    };
  }

  directoryStat(path: string): DirectoryStat {
    const dir = this.dirs.get(path);
    const numChildren = dir?.children.size ?? 0;
    return {
      cversion: 2 * (dir?.creates ?? 0) - numChildren,
      pzxid: dir?.pzxid ?? this.nodes.get(path)?.czxid ?? 0,
      numChildren,
    };
  }
}
