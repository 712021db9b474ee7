/**
 * The znode tree of one replica: reads (with watch registration), deterministic `apply` of
 * committed transactions, the housekeeping checks (expired sessions, containers, TTL nodes)
 * and fuzzy snapshots. Pure: no I/O, no timers, no clock; times are passed in.
 *
 * One class for both hierarchies, chosen by `hierarchy`:
 * - `strict` (meta ensemble): ZooKeeper's tree. The root exists; a create needs its parent;
 *   a delete needs no children (both checked by TxnPreparer).
 * - `implicit` (shard data plane): a create needs no parent and a delete leaves the children;
 *   children are still listed per directory, with a per-directory sequence counter.
 *
 * Apply is idempotent state-setting, like ZooKeeper's DataTree: replaying the log after a
 * snapshot's start zxid over a fuzzy snapshot gives the same tree as applying it straight.
 */
import { invariant, ShardkvError } from '../errors/codes.js';
import { ROOT_PATH, validatePath } from '../ring/path.js';
import { COORDINATOR_TOKEN_PATH, FENCES_DIR, fencePath, parseRanges, rangesContain, type FenceRecord, type HashRange, type PlacementHash } from './range-transfer.js';
import { restoreState, serialiseState, type SnapshotChunk } from './tree-snapshot.js';
import { nameOf, parentOf, TreeState, type NodeRecord } from './tree-state.js';
import type {
  ApplyOutcome,
  CheckTxn,
  CloseSessionTxn,
  CreateTxn,
  DeleteTxn,
  DropRangeTxn,
  FenceTxn,
  ImportNodesTxn,
  DirectoryStat,
  Hierarchy,
  MultiSubTxn,
  PersistentWatchMode,
  SetDataTxn,
  Stat,
  SubTxnResult,
  Txn,
  TxnResult,
  WatcherId,
  WatchEvent,
  WatchEventType,
} from './types.js';
import { WatchRegistry, type WatchKind } from './watch-registry.js';

/** ZooKeeper's jute.maxbuffer is about 1 MiB; DESIGN.md: data <= 1 MiB, configurable. */
export const DEFAULT_MAX_DATA_BYTES = 1024 * 1024;

export interface ZnodeTreeOptions {
  hierarchy: Hierarchy;
  /** Largest accepted node data. */
  maxDataBytes?: number;
  /**
   * `local`: an ephemeral's owner must be a session open in this tree (meta ensemble).
   * `external`: sessions live elsewhere and the caller checks them (shard groups, whose
   * sessions are records on the group that owns the session id).
   */
  sessionScope?: 'local' | 'external';
}

export interface ChildrenResult {
  /** Child names, sorted. */
  children: string[];
  /** The node's stat, or null in implicit mode when the directory has no node here. */
  stat: Stat | null;
  directory: DirectoryStat;
}

export class ZnodeTree {
  readonly hierarchy: Hierarchy;
  readonly maxDataBytes: number;
  readonly sessionScope: 'local' | 'external';
  private state: TreeState;
  private readonly watches = new WatchRegistry();
  private placementHash: PlacementHash | undefined;
  private ringVersionNow: (() => number) | undefined;
  /** Parsed fences (derived from the nodes under FENCES_DIR); undefined when stale. */
  private fenceCache: Array<{ fenceId: string; ranges: HashRange[]; toRingVersion: number }> | undefined;
  /** Parsed from the node at COORDINATOR_TOKEN_PATH; undefined when stale. */
  private tokenCache: number | undefined;
  /** Which sessions this tree's group decides the expiry of now (shards: by the ring); all if unset. */
  private decidesExpiry: ((sessionId: number) => boolean) | undefined;

  constructor(options: ZnodeTreeOptions) {
    this.hierarchy = options.hierarchy;
    this.maxDataBytes = options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES;
    this.sessionScope = options.sessionScope ?? 'local';
    invariant(Number.isInteger(this.maxDataBytes) && this.maxDataBytes >= 0, 'maxDataBytes is a non-negative integer');
    this.state = ZnodeTree.emptyState(this.hierarchy);
  }

  private static emptyState(hierarchy: Hierarchy): TreeState {
    const state = new TreeState(hierarchy);
    if (hierarchy === 'strict') {
      state.nodes.set(ROOT_PATH, {
        data: new Uint8Array(0),
        czxid: 0,
        mzxid: 0,
        ctime: 0,
        mtime: 0,
        version: 0,
        aversion: 0,
        kind: 'persistent',
        ephemeralOwner: 0,
        ttl_ms: 0,
      });
    }
    return state;
  }

  /** zxid of the last applied txn (or the start zxid of the restored snapshot). */
  get lastZxid(): number {
    return this.state.lastZxid;
  }

  get nodeCount(): number {
    return this.state.nodes.size;
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  /** Data and stat; NO_NODE if missing. A watcher gets a one-shot data watch. */
  getData(path: string, watcher?: WatcherId): { data: Uint8Array; stat: Stat } {
    validatePath(path);
    const node = this.state.nodes.get(path);
    if (node === undefined) throw new ShardkvError('NO_NODE', `no node at ${path}`, { path });
    if (watcher !== undefined) this.watches.add('data', path, watcher);
    return { data: node.data, stat: this.state.statOf(path, node) };
  }

  /** Stat or null. A watcher gets a one-shot data watch, also on a missing node (fires on create). */
  exists(path: string, watcher?: WatcherId): Stat | null {
    validatePath(path);
    if (watcher !== undefined) this.watches.add('data', path, watcher);
    const node = this.state.nodes.get(path);
    return node === undefined ? null : this.state.statOf(path, node);
  }

  /**
   * Children of `path`. Strict: NO_NODE if the node is missing. Implicit: every directory
   * exists, an unused one is empty. A watcher gets a one-shot child watch.
   */
  getChildren(path: string, watcher?: WatcherId): ChildrenResult {
    validatePath(path);
    const node = this.state.nodes.get(path);
    if (node === undefined && this.hierarchy === 'strict') {
      throw new ShardkvError('NO_NODE', `no node at ${path}`, { path });
    }
    if (watcher !== undefined) this.watches.add('child', path, watcher);
    const dir = this.state.dirs.get(path);
    return {
      children: dir === undefined ? [] : [...dir.children].sort(),
      stat: node === undefined ? null : this.state.statOf(path, node),
      directory: this.state.directoryStat(path),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Watches (local to this replica)

  /** ZooKeeper 3.6 addWatch: a persistent watch on `path`, or on `path` and its descendants. */
  addWatch(path: string, watcher: WatcherId, mode: PersistentWatchMode): void {
    validatePath(path);
    this.watches.add(mode, path, watcher);
  }

  /** Removes one watch registration; true if there was one. */
  removeWatch(kind: WatchKind, path: string, watcher: WatcherId): boolean {
    return this.watches.remove(kind, path, watcher);
  }

  /** Removes every watch of `watcher`. */
  removeWatcher(watcher: WatcherId): void {
    this.watches.removeWatcher(watcher);
  }

  get watchCount(): number {
    return this.watches.size;
  }

  // -------------------------------------------------------------------------------------------
  // Apply

  /** Applies a committed txn. `zxid` must grow; `time_ms` is the leader's time of the txn. */
  apply(txn: Txn, zxid: number, time_ms: number): ApplyOutcome {
    invariant(zxid > this.state.lastZxid, `zxid ${zxid} applied after ${this.state.lastZxid}`);
    const events: WatchEvent[] = [];
    const fire = (type: WatchEventType, path: string): void => {
      const event = this.watches.trigger(type, path, zxid);
      if (event !== undefined) events.push(event);
    };
    let result: TxnResult;
    switch (txn.type) {
      case 'multi':
        result = { type: 'multi', results: txn.txns.map((sub) => this.applySub(sub, zxid, time_ms, fire)) };
        break;
      case 'createSession':
        this.state.sessions.open(txn.sessionId, txn.timeout_ms);
        // Counts from the txn's time on this replica; a later leader restarts it anyway.
        this.state.sessions.touch(txn.sessionId, time_ms);
        result = { type: 'createSession', sessionId: txn.sessionId };
        break;
      case 'closeSession':
        result = this.applyCloseSession(txn, zxid, fire);
        break;
      case 'importNodes':
        this.raiseCoordinatorToken(txn.coordinatorToken, zxid, time_ms);
        result = this.applyImport(txn, time_ms);
        break;
      case 'fence':
        this.raiseCoordinatorToken(txn.coordinatorToken, zxid, time_ms);
        result = this.applyFence(txn, zxid, time_ms);
        break;
      case 'dropRange':
        this.raiseCoordinatorToken(txn.coordinatorToken, zxid, time_ms);
        result = this.applyDropRange(txn);
        break;
      default:
        result = this.applySub(txn, zxid, time_ms, fire);
    }
    // Set last: a snapshot taken meanwhile must not claim a txn it may not fully hold.
    this.state.lastZxid = zxid;
    return { result, events };
  }

  private applySub(
    txn: MultiSubTxn,
    zxid: number,
    time_ms: number,
    fire: (type: WatchEventType, path: string) => void,
  ): SubTxnResult {
    switch (txn.type) {
      case 'create':
        return this.applyCreate(txn, zxid, time_ms, fire);
      case 'delete':
        return this.applyDelete(txn, zxid, fire);
      case 'setData':
        return this.applySetData(txn, zxid, time_ms, fire);
      case 'check':
        return this.applyCheck(txn);
    }
  }

  private applyCreate(
    txn: CreateTxn,
    zxid: number,
    time_ms: number,
    fire: (type: WatchEventType, path: string) => void,
  ): SubTxnResult {
    const { path } = txn;
    const parent = parentOf(path);
    const state = this.state;
    // Strict: a missing parent can only be a replay over a snapshot that caught the parent
    // after its delete; the later delete txns make the end state right.
    if (this.hierarchy === 'strict' && !state.nodes.has(parent)) return { type: 'noop', txnType: 'create', path };
    const parentDir = state.dirFor(parent);
    // The counter only grows: a replayed create must not take it back (ZooKeeper does the same).
    if (txn.parentCreates > parentDir.creates) {
      parentDir.creates = txn.parentCreates;
      if (zxid > parentDir.pzxid) parentDir.pzxid = zxid;
    }
    if (state.nodes.has(path)) {
      // Replay of a create whose node the snapshot already holds: make sure it is linked.
      parentDir.children.add(nameOf(path));
      return { type: 'noop', txnType: 'create', path };
    }
    const node: NodeRecord = {
      data: txn.data,
      czxid: zxid,
      mzxid: zxid,
      ctime: time_ms,
      mtime: time_ms,
      version: 0,
      aversion: 0,
      kind: txn.kind,
      ephemeralOwner: txn.ephemeralOwner,
      ttl_ms: txn.ttl_ms,
    };
    state.nodes.set(path, node);
    state.index(path, node);
    parentDir.children.add(nameOf(path));
    if (zxid > parentDir.pzxid) parentDir.pzxid = zxid;
    const staleDir = state.dirs.get(path);
    if (this.hierarchy === 'strict' && staleDir !== undefined) {
      // A new node starts with a new directory (cversion 0). A record left here can only come
      // from replaying over a fuzzy snapshot; children still in it are orphans that the replay
      // re-links or deletes, so keep them.
      if (staleDir.children.size === 0) {
        state.dirs.delete(path);
      } else {
        staleDir.creates = 0;
        staleDir.pzxid = zxid;
      }
    }
    fire('NodeCreated', path);
    fire('NodeChildrenChanged', parent);
    return { type: 'create', path, stat: state.statOf(path, node) };
  }

  private applyDelete(txn: DeleteTxn, zxid: number, fire: (type: WatchEventType, path: string) => void): SubTxnResult {
    const { path } = txn;
    const state = this.state;
    const parent = parentOf(path);
    // ZooKeeper moves the parent's pzxid even when the child is already gone (replay).
    const parentDir =
      this.hierarchy === 'implicit' || state.nodes.has(parent) ? state.dirFor(parent) : state.dirs.get(parent);
    if (parentDir !== undefined) {
      parentDir.children.delete(nameOf(path));
      // Only forward: a replayed delete must not hide a later child create.
      if (zxid > parentDir.pzxid) parentDir.pzxid = zxid;
    }
    if (this.hierarchy === 'strict') {
      const dir = state.dirs.get(path);
      if (dir !== undefined && dir.children.size === 0) state.dirs.delete(path);
    }
    const node = state.nodes.get(path);
    if (node === undefined) return { type: 'noop', txnType: 'delete', path };
    state.nodes.delete(path);
    state.unindex(path, node);
    fire('NodeDeleted', path);
    fire('NodeChildrenChanged', parent);
    return { type: 'delete', path };
  }

  private applySetData(
    txn: SetDataTxn,
    zxid: number,
    time_ms: number,
    fire: (type: WatchEventType, path: string) => void,
  ): SubTxnResult {
    const node = this.state.nodes.get(txn.path);
    if (node === undefined) return { type: 'noop', txnType: 'setData', path: txn.path };
    node.data = txn.data;
    node.version = txn.version;
    node.mzxid = zxid;
    node.mtime = time_ms;
    fire('NodeDataChanged', txn.path);
    return { type: 'setData', path: txn.path, stat: this.state.statOf(txn.path, node) };
  }

  private applyCheck(txn: CheckTxn): SubTxnResult {
    return { type: 'check', path: txn.path };
  }

  private applyCloseSession(
    txn: CloseSessionTxn,
    zxid: number,
    fire: (type: WatchEventType, path: string) => void,
  ): TxnResult {
    // The txn's list first (what the leader saw), then anything the index still holds for the
    // session (ZooKeeper's killSession does the same). Listed paths are deleted whoever owns
    // them now: on the live path they are the session's; in a replay, a later create restores
    // a node that a later session made there.
    const paths = new Set(txn.paths);
    for (const path of this.state.sessions.ephemeralsOf(txn.sessionId)) paths.add(path);
    const deleted: string[] = [];
    for (const path of paths) {
      const outcome = this.applyDelete({ type: 'delete', path }, zxid, fire);
      if (outcome.type === 'delete') deleted.push(path);
    }
    this.state.sessions.close(txn.sessionId);
    return { type: 'closeSession', sessionId: txn.sessionId, deleted };
  }

  // -------------------------------------------------------------------------------------------
  // Rebalancing: import, fence, drop (no watch fires: the old owner tells its watchers instead)

  private applyImport(txn: ImportNodesTxn, time_ms: number): TxnResult {
    const state = this.state;
    for (const [path, data, czxid, mzxid, ctime, mtime, version, aversion, kind, ephemeralOwner, ttl_ms] of txn.nodes) {
      const older = state.nodes.get(path);
      if (older !== undefined) state.unindex(path, older);
      const node: NodeRecord = { data, czxid, mzxid, ctime, mtime, version, aversion, kind, ephemeralOwner, ttl_ms };
      state.nodes.set(path, node);
      state.index(path, node);
      if (path !== ROOT_PATH) state.dirFor(parentOf(path)).children.add(nameOf(path));
    }
    for (const [path, creates, pzxid] of txn.dirs) {
      const dir = state.dirFor(path);
      dir.creates = Math.max(dir.creates, creates);
      dir.pzxid = Math.max(dir.pzxid, pzxid);
    }
    for (const [sessionId, timeout_ms] of txn.sessions) {
      state.sessions.open(sessionId, timeout_ms);
      // Liveness starts at the import, as at a create: a session that never calls again expires here.
      state.sessions.touch(sessionId, time_ms);
    }
    for (const path of txn.deletes) this.removeSilently(path);
    for (const sessionId of txn.closedSessions) state.sessions.close(sessionId);
    return {
      type: 'importNodes', nodes: txn.nodes.length, deletes: txn.deletes.length,
      sessions: txn.sessions.length, closedSessions: txn.closedSessions.length,
    };
  }

  private applyFence(txn: FenceTxn, zxid: number, time_ms: number): TxnResult {
    const path = fencePath(txn.fenceId);
    const record: FenceRecord = { ranges: txn.ranges, toRingVersion: txn.toRingVersion };
    const older = this.state.nodes.get(path);
    if (older !== undefined) this.state.unindex(path, older);
    this.state.nodes.set(path, {
      data: new TextEncoder().encode(JSON.stringify(record)),
      czxid: older?.czxid ?? zxid, mzxid: zxid, ctime: older?.ctime ?? time_ms, mtime: time_ms,
      version: 0, aversion: 0, kind: 'persistent', ephemeralOwner: 0, ttl_ms: 0,
    });
    this.state.dirFor(FENCES_DIR).children.add(txn.fenceId);
    this.fenceCache = undefined;
    return { type: 'fence', fenceId: txn.fenceId };
  }

  private applyDropRange(txn: DropRangeTxn): TxnResult {
    let deleted = 0;
    for (const path of txn.paths) if (this.removeSilently(path)) deleted += 1;
    for (const path of txn.dirs) {
      const dir = this.state.dirs.get(path);
      if (dir !== undefined && dir.children.size === 0) this.state.dirs.delete(path);
    }
    for (const sessionId of txn.sessions) this.state.sessions.close(sessionId);
    // The fence stays (see fenceCovering): it is the replicated record that the range left, for a
    // replica of this group whose ring is still older than the one that moved it.
    return { type: 'dropRange', deleted, ...(txn.fenceId === undefined ? {} : { fenceId: txn.fenceId }) };
  }

  /**
   * Records a range txn's coordinator token if it is higher than the one held. Only ever
   * raises it, so a replay over a fuzzy snapshot that already holds a later token keeps it. The
   * preparer refuses lower tokens; apply never does (its outcome must not depend on the snapshot).
   */
  private raiseCoordinatorToken(token: number | undefined, zxid: number, time_ms: number): void {
    if (token === undefined || token <= this.coordinatorToken) return;
    const older = this.state.nodes.get(COORDINATOR_TOKEN_PATH);
    if (older !== undefined) this.state.unindex(COORDINATOR_TOKEN_PATH, older);
    const node: NodeRecord = {
      data: new TextEncoder().encode(String(token)),
      czxid: older?.czxid ?? zxid, mzxid: zxid, ctime: older?.ctime ?? time_ms, mtime: time_ms,
      version: older === undefined ? 0 : older.version + 1, aversion: 0, kind: 'persistent', ephemeralOwner: 0, ttl_ms: 0,
    };
    this.state.nodes.set(COORDINATOR_TOKEN_PATH, node);
    this.state.index(COORDINATOR_TOKEN_PATH, node);
    this.state.dirFor(parentOf(COORDINATOR_TOKEN_PATH)).children.add(nameOf(COORDINATOR_TOKEN_PATH));
    this.tokenCache = token;
  }

  /** The highest rebalance coordinator token applied here (0: none). */
  get coordinatorToken(): number {
    if (this.tokenCache === undefined) {
      const node = this.state.nodes.get(COORDINATOR_TOKEN_PATH);
      this.tokenCache = node === undefined ? 0 : Number(new TextDecoder().decode(node.data));
    }
    return this.tokenCache;
  }

  /** Deletes a node without watch events; true if there was one. */
  private removeSilently(path: string): boolean {
    const node = this.state.nodes.get(path);
    if (node === undefined) return false;
    this.state.nodes.delete(path);
    this.state.unindex(path, node);
    if (path !== ROOT_PATH) this.state.dirs.get(parentOf(path))?.children.delete(nameOf(path));
    return true;
  }

  /** A shard sets how it places keys once at start; fences are only checked where it is set. */
  usePlacementHash(placement: PlacementHash): void {
    this.placementHash = placement;
  }

  /** A shard's ring version as its ring watch holds it now: it decides which fences still refuse. */
  useRingVersion(current: () => number): void {
    this.ringVersionNow = current;
  }

  get placement(): PlacementHash | undefined {
    return this.placementHash;
  }

  /** The applied fences. */
  fences(): Array<{ fenceId: string; ranges: HashRange[]; toRingVersion: number }> {
    if (this.fenceCache === undefined) {
      const cache: Array<{ fenceId: string; ranges: HashRange[]; toRingVersion: number }> = [];
      for (const fenceId of this.state.dirs.get(FENCES_DIR)?.children ?? []) {
        const node = this.state.nodes.get(fencePath(fenceId));
        if (node === undefined) continue;
        const record = JSON.parse(new TextDecoder().decode(node.data)) as FenceRecord;
        cache.push({ fenceId, ranges: parseRanges(record.ranges), toRingVersion: record.toRingVersion });
      }
      this.fenceCache = cache;
    }
    return this.fenceCache;
  }

  /**
   * The applied fence covering a placement hash that still refuses, if any. A fence refuses
   * while this replica's ring is older than the ring that moves its ranges away; from that ring
   * on, the ring's ownership refuses them instead (and a later ring may give them back). Fences
   * are never deleted: a replica whose ring watch lags (a new leader, a restart) must not take
   * writes for a range its group already handed over and dropped. Without a ring version (unit
   * tests of the tree) every fence refuses.
   */
  fenceCovering(hash: bigint): { fenceId: string; toRingVersion: number } | undefined {
    const fences = this.fences();
    if (fences.length === 0) return undefined;
    const ringVersion = this.ringVersionNow?.() ?? -1;
    return fences.find((fence) => fence.toRingVersion > ringVersion && rangesContain(fence.ranges, hash));
  }

  /** Every node path, directory path and session id (for range exports; a snapshot in time). */
  keys(): { nodes: string[]; dirs: string[]; sessions: number[] } {
    return {
      nodes: [...this.state.nodes.keys()],
      dirs: [...this.state.dirs.keys()],
      sessions: [...this.state.sessions.entries()].map(([sessionId]) => sessionId),
    };
  }

  /** Ids of the open sessions. */
  sessionIds(): number[] {
    return [...this.state.sessions.entries()].map(([sessionId]) => sessionId);
  }

  /** The committed directory record at `path`: [path, creates, pzxid], or undefined. */
  directoryRecord(path: string): [string, number, number] | undefined {
    const dir = this.state.dirs.get(path);
    return dir === undefined ? undefined : [path, dir.creates, dir.pzxid];
  }

  // -------------------------------------------------------------------------------------------
  // State the preparer reads (committed state, before its pending overlay)

  /** The committed node at `path` (do not modify). */
  nodeAt(path: string): Readonly<NodeRecord> | undefined {
    return this.state.nodes.get(path);
  }

  /** Committed child count and create counter of the directory at `path` (zeros if none). */
  directoryAt(path: string): { creates: number; childCount: number } {
    const dir = this.state.dirs.get(path);
    return { creates: dir?.creates ?? 0, childCount: dir?.children.size ?? 0 };
  }

  // -------------------------------------------------------------------------------------------
  // Sessions

  /** Open sessions in this tree. */
  get sessionCount(): number {
    return this.state.sessions.count;
  }

  hasSession(sessionId: number): boolean {
    return this.state.sessions.has(sessionId);
  }

  sessionTimeout(sessionId: number): number | undefined {
    return this.state.sessions.timeoutOf(sessionId);
  }

  /** The ephemerals `sessionId` owns in this tree. */
  sessionEphemerals(sessionId: number): string[] {
    return this.state.sessions.ephemeralsOf(sessionId);
  }

  /** Sessions that own ephemerals in this tree (on a shard, some live on other groups). */
  ephemeralOwners(): number[] {
    return this.state.sessions.ephemeralOwners();
  }

  /** A heartbeat (not a log write). False for an unknown session. */
  touchSession(sessionId: number, now_ms: number): boolean {
    return this.state.sessions.touch(sessionId, now_ms);
  }

  /** A new leader calls this: every open session gets a full timeout from `now_ms`. */
  restartSessionLiveness(now_ms: number): void {
    this.state.sessions.restartLiveness(now_ms);
  }

  /**
   * A shard sets which sessions its group decides the expiry of now (it owns their placement
   * key at its ring). Set once at start, like the placement hash.
   */
  useSessionAuthority(decides: (sessionId: number) => boolean): void {
    this.decidesExpiry = decides;
  }

  /**
   * Open sessions whose timeout has passed since last heard; the leader closes them. A session
   * this group does not decide for (placed in a fenced range: it is moving away; or not ours by
   * the session authority) is never expired here: it counts as heard now instead, so if this
   * group starts deciding for it, its timeout runs from then.
   */
  expiredSessions(now_ms: number): number[] {
    const expired = this.state.sessions.expired(now_ms);
    if (expired.length === 0 || (this.placementHash === undefined && this.decidesExpiry === undefined)) return expired;
    return expired.filter((sessionId) => {
      if (this.decidesExpiryOf(sessionId)) return true;
      this.state.sessions.touch(sessionId, now_ms);
      return false;
    });
  }

  private decidesExpiryOf(sessionId: number): boolean {
    if (this.placementHash !== undefined && this.fences().length > 0 && this.fenceCovering(this.placementHash.ofSession(sessionId)) !== undefined) {
      return false;
    }
    return this.decidesExpiry?.(sessionId) ?? true;
  }

  // -------------------------------------------------------------------------------------------
  // Containers and TTL nodes (the replica turns these into `reap` requests)

  /** Containers that have had children and have none now (ZooKeeper's ContainerManager rule). */
  containersToDelete(): string[] {
    const paths: string[] = [];
    for (const path of this.state.containers) {
      const dir = this.state.dirs.get(path);
      if (dir !== undefined && dir.creates > 0 && dir.children.size === 0) paths.push(path);
    }
    return paths.sort();
  }

  /** TTL nodes with no children and not modified for longer than their TTL. */
  expiredTtlNodes(now_ms: number): string[] {
    const paths: string[] = [];
    for (const path of this.state.ttls) {
      const node = this.state.nodes.get(path);
      if (node !== undefined && this.ttlExpired(path, node, now_ms)) paths.push(path);
    }
    return paths.sort();
  }

  /** Whether `node` (kind ttl) has expired at `now_ms`. */
  ttlExpired(path: string, node: Readonly<NodeRecord>, now_ms: number): boolean {
    const childCount = this.state.dirs.get(path)?.children.size ?? 0;
    return childCount === 0 && now_ms - node.mtime > node.ttl_ms;
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots

  /**
   * The state as msgpack-friendly chunks. It may be consumed across event-loop turns while
   * txns keep being applied (a fuzzy snapshot): restoring it and replaying every txn after the
   * header's startZxid gives the exact tree.
   */
  serialise(entriesPerChunk = 1000): Generator<SnapshotChunk> {
    return serialiseState(this.state, entriesPerChunk);
  }

  /** Replaces the replicated state with a snapshot's. Watches stay; session liveness restarts. */
  restore(chunks: Iterable<SnapshotChunk>): void {
    this.state = restoreState(chunks, this.hierarchy);
    this.fenceCache = undefined;
    this.tokenCache = undefined;
  }

  /** Every node and directory with its full state, sorted: for tests and consistency checks. */
  dump(): {
    lastZxid: number;
    nodes: Array<{ path: string; data: Uint8Array; stat: Stat; kind: string; ttl_ms: number }>;
    dirs: Array<{ path: string; children: string[]; creates: number; pzxid: number }>;
    sessions: Array<[number, number]>;
  } {
    const state = this.state;
    return {
      lastZxid: state.lastZxid,
      nodes: [...state.nodes.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([path, node]) => ({ path, data: node.data, stat: state.statOf(path, node), kind: node.kind, ttl_ms: node.ttl_ms })),
      dirs: [...state.dirs.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([path, dir]) => ({ path, children: [...dir.children].sort(), creates: dir.creates, pzxid: dir.pzxid })),
      sessions: [...state.sessions.entries()].sort((a, b) => a[0] - b[0]),
    };
  }
}
