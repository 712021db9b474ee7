/**
 * Watch bookkeeping of one replica (watches are local, never replicated, as in ZooKeeper).
 *
 * - data watches (one-shot; set by getData, and by exists also on a missing node):
 *   NodeCreated, NodeDataChanged, NodeDeleted of that path;
 * - child watches (one-shot; set by getChildren): NodeChildrenChanged of that path, and
 *   NodeDeleted when the node itself goes;
 * - persistent watches (ZooKeeper 3.6 addWatch PERSISTENT): every event of that path,
 *   child changes included, never removed by firing;
 * - persistent-recursive watches: NodeCreated, NodeDataChanged and NodeDeleted of that path and
 *   every descendant (not NodeChildrenChanged, as in ZooKeeper).
 */
import { ROOT_PATH } from '../ring/path.js';
import type { PersistentWatchMode, WatcherId, WatchEvent, WatchEventType } from './types.js';

type WatchTable = Map<string, Set<WatcherId>>;

function addTo(table: WatchTable, path: string, watcher: WatcherId): void {
  let watchers = table.get(path);
  if (watchers === undefined) {
    watchers = new Set();
    table.set(path, watchers);
  }
  watchers.add(watcher);
}

function removeFrom(table: WatchTable, path: string, watcher: WatcherId): boolean {
  const watchers = table.get(path);
  if (watchers === undefined || !watchers.delete(watcher)) return false;
  if (watchers.size === 0) table.delete(path);
  return true;
}

/** `/a/b` -> `/a/b`, `/a`, `/`. */
function* selfAndAncestors(path: string): Generator<string> {
  let current = path;
  for (;;) {
    yield current;
    if (current === ROOT_PATH) return;
    const lastSlash = current.lastIndexOf('/');
    current = lastSlash === 0 ? ROOT_PATH : current.slice(0, lastSlash);
  }
}

export type WatchKind = 'data' | 'child' | PersistentWatchMode;

export class WatchRegistry {
  private readonly data: WatchTable = new Map();
  private readonly child: WatchTable = new Map();
  private readonly persistent: WatchTable = new Map();
  private readonly recursive: WatchTable = new Map();

  add(kind: WatchKind, path: string, watcher: WatcherId): void {
    addTo(this.table(kind), path, watcher);
  }

  /** Removes one registration; true if there was one. */
  remove(kind: WatchKind, path: string, watcher: WatcherId): boolean {
    return removeFrom(this.table(kind), path, watcher);
  }

  /** Removes every registration of `watcher` (its session closed or its connection went). */
  removeWatcher(watcher: WatcherId): void {
    for (const table of [this.data, this.child, this.persistent, this.recursive]) {
      for (const [path, watchers] of table) {
        if (watchers.delete(watcher) && watchers.size === 0) table.delete(path);
      }
    }
  }

  /** Number of registrations, all kinds (for metrics and tests). */
  get size(): number {
    let count = 0;
    for (const table of [this.data, this.child, this.persistent, this.recursive]) {
      for (const watchers of table.values()) count += watchers.size;
    }
    return count;
  }

  /**
   * The event for `type` on `path` with the watchers it reaches, one-shot registrations removed;
   * undefined when it reaches none.
   */
  trigger(type: WatchEventType, path: string, zxid: number): WatchEvent | undefined {
    const reached = new Set<WatcherId>();
    const takeOneShot = (table: WatchTable): void => {
      const watchers = table.get(path);
      if (watchers === undefined) return;
      for (const watcher of watchers) reached.add(watcher);
      table.delete(path);
    };
    if (type === 'NodeChildrenChanged') {
      takeOneShot(this.child);
    } else {
      takeOneShot(this.data);
      if (type === 'NodeDeleted') takeOneShot(this.child);
    }
    for (const watcher of this.persistent.get(path) ?? []) reached.add(watcher);
    if (type !== 'NodeChildrenChanged' && this.recursive.size > 0) {
      for (const ancestor of selfAndAncestors(path)) {
        for (const watcher of this.recursive.get(ancestor) ?? []) reached.add(watcher);
      }
    }
    return reached.size === 0 ? undefined : { type, path, zxid, watchers: [...reached] };
  }

  private table(kind: WatchKind): WatchTable {
    switch (kind) {
      case 'data':
        return this.data;
      case 'child':
        return this.child;
      case 'persistent':
        return this.persistent;
      case 'persistent_recursive':
        return this.recursive;
    }
  }
}
