/**
 * The leader's outstanding changes (ZooKeeper's PrepRequestProcessor "outstandingChanges"):
 * the effect of txns prepared but not yet applied, so that a prepare sees the ones before it
 * (pipelining). Each change is tagged with the zxid of its txn; `committed(zxid)` drops the
 * changes the tree now holds, `clear()` drops everything (leader change), and a mark/rollback
 * pair undoes a failed multi's changes.
 */
import { invariant } from '../errors/codes.js';
import type { NodeKind } from './types.js';

/** What a prepare needs to know of a node. */
export interface PendingNode {
  version: number;
  kind: NodeKind;
  ephemeralOwner: number;
}

/** What a prepare needs to know of a directory. */
export interface PendingDir {
  creates: number;
  childCount: number;
}

type TableName = 'nodes' | 'dirs' | 'sessions';

interface Entry<V> {
  zxid: number;
  value: V;
}

interface LogRecord {
  zxid: number;
  table: TableName;
  key: string | number;
  /** The overlay entry this change replaced (for rollback). */
  previous: Entry<unknown> | undefined;
}

export class PendingChanges {
  /** path -> node after the pending txns, or null when they delete it. */
  private readonly nodes = new Map<string, Entry<PendingNode | null>>();
  private readonly dirs = new Map<string, Entry<PendingDir>>();
  /** sessionId -> open after the pending txns. */
  private readonly sessions = new Map<number, Entry<boolean>>();
  /** Every change in order; records before `head` were committed. */
  private log: LogRecord[] = [];
  private head = 0;

  /** undefined: no pending change, read the tree. */
  node(path: string): PendingNode | null | undefined {
    return this.nodes.get(path)?.value;
  }

  dir(path: string): PendingDir | undefined {
    return this.dirs.get(path)?.value;
  }

  sessionOpen(sessionId: number): boolean | undefined {
    return this.sessions.get(sessionId)?.value;
  }

  /** Pending nodes, for scans (a closing session's ephemerals). */
  pendingNodes(): IterableIterator<[string, Entry<PendingNode | null>]> {
    return this.nodes.entries();
  }

  setNode(zxid: number, path: string, node: PendingNode | null): void {
    this.record(zxid, 'nodes', path, this.nodes.get(path));
    this.nodes.set(path, { zxid, value: node });
  }

  setDir(zxid: number, path: string, dir: PendingDir): void {
    this.record(zxid, 'dirs', path, this.dirs.get(path));
    this.dirs.set(path, { zxid, value: dir });
  }

  setSessionOpen(zxid: number, sessionId: number, open: boolean): void {
    this.record(zxid, 'sessions', sessionId, this.sessions.get(sessionId));
    this.sessions.set(sessionId, { zxid, value: open });
  }

  get size(): number {
    return this.log.length - this.head;
  }

  /** A savepoint for rollback. */
  mark(): number {
    return this.log.length;
  }

  /** Undoes every change made since `mark`, newest first. */
  rollback(mark: number): void {
    invariant(mark >= this.head && mark <= this.log.length, 'rollback to a mark still pending');
    while (this.log.length > mark) {
      const record = this.log.pop() as LogRecord;
      const table = this.table(record.table);
      if (record.previous === undefined) table.delete(record.key);
      else table.set(record.key, record.previous);
    }
  }

  /** The tree has applied every txn up to `zxid`: its changes are no longer pending. */
  committed(zxid: number): void {
    while (this.head < this.log.length && (this.log[this.head] as LogRecord).zxid <= zxid) {
      const record = this.log[this.head] as LogRecord;
      const table = this.table(record.table);
      // Only if no later pending change replaced it.
      if (table.get(record.key)?.zxid === record.zxid) table.delete(record.key);
      this.head += 1;
    }
    if (this.head === this.log.length) {
      this.log = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log = this.log.slice(this.head);
      this.head = 0;
    }
  }

  /** Drops every pending change (on leader change: uncommitted proposals are gone). */
  clear(): void {
    this.nodes.clear();
    this.dirs.clear();
    this.sessions.clear();
    this.log = [];
    this.head = 0;
  }

  private record(zxid: number, table: TableName, key: string | number, previous: Entry<unknown> | undefined): void {
    const last = this.log[this.log.length - 1];
    invariant(last === undefined || last.zxid <= zxid, `pending change at zxid ${zxid} after one at ${last?.zxid}`);
    this.log.push({ zxid, table, key, previous });
  }

  private table(name: TableName): Map<string | number, Entry<unknown>> {
    return this[name] as Map<string | number, Entry<unknown>>;
  }
}
