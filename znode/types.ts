/**
 * The znode data model's value types: stat, create modes, client requests, replicated
 * transactions (Txn), apply results and watch events. Every Txn is a plain object of strings,
 * numbers and Uint8Array, so msgpack encodes it as is.
 *
 * zxids, times and session ids are JavaScript numbers: exact up to 2^53, which holds a zxid
 * `epoch << 32 | counter` for epochs below 2^21.
 */
import type { HashRangeText, RangeImage } from './range-transfer.js';

/** ZooKeeper's Stat, as a client sees it. */
export interface Stat {
  /** zxid of the create. */
  czxid: number;
  /** zxid of the last setData (the create's zxid before any). */
  mzxid: number;
  /** zxid of the last child create or delete (the node's own czxid before any). */
  pzxid: number;
  ctime: number;
  mtime: number;
  /** Number of setData since the create. */
  version: number;
  /** Number of child creates plus child deletes (ZooKeeper's client-visible cversion). */
  cversion: number;
  /** Number of ACL changes; always 0 (shardkv has no ACLs). */
  aversion: number;
  /** The owning session of an ephemeral node, 0 for every other kind. */
  ephemeralOwner: number;
  dataLength: number;
  numChildren: number;
}

/** The child-related fields of a directory, present even where the node itself is not (implicit mode). */
export interface DirectoryStat {
  cversion: number;
  pzxid: number;
  numChildren: number;
}

export type CreateMode =
  | 'persistent'
  | 'ephemeral'
  | 'persistent_sequential'
  | 'ephemeral_sequential'
  | 'container'
  | 'persistent_with_ttl'
  | 'persistent_sequential_with_ttl';

export const CREATE_MODES: readonly CreateMode[] = [
  'persistent',
  'ephemeral',
  'persistent_sequential',
  'ephemeral_sequential',
  'container',
  'persistent_with_ttl',
  'persistent_sequential_with_ttl',
];

/** What a node is, for its lifetime: ZooKeeper packs this into ephemeralOwner; we keep it apart. */
export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

/** `strict`: ZooKeeper's tree (meta ensemble). `implicit`: parents need not exist (shard data plane). */
export type Hierarchy = 'strict' | 'implicit';

// ---------------------------------------------------------------------------------------------
// Requests: what a client asks the leader. `prepare` turns one into a Txn or throws.

export interface CreateRequest {
  op: 'create';
  path: string;
  data: Uint8Array;
  mode: CreateMode;
  /** Required (> 0) for the *_with_ttl modes, absent otherwise. */
  ttl_ms?: number;
}
export interface DeleteRequest {
  op: 'delete';
  path: string;
  /** Expected version, -1 for any. */
  version: number;
}
export interface SetDataRequest {
  op: 'setData';
  path: string;
  data: Uint8Array;
  /** Expected version, -1 for any. */
  version: number;
}
export interface CheckRequest {
  op: 'check';
  path: string;
  /** Expected version, -1 for any (then only existence is checked). */
  version: number;
}
export type MultiOpRequest = CreateRequest | DeleteRequest | SetDataRequest | CheckRequest;
export interface MultiRequest {
  op: 'multi';
  ops: MultiOpRequest[];
}
export interface CreateSessionRequest {
  op: 'createSession';
  /** Chosen by the caller (positive integer, unique in the cluster). */
  sessionId: number;
  timeout_ms: number;
}
export interface CloseSessionRequest {
  op: 'closeSession';
  sessionId: number;
}
/**
 * Delete a container node that has had children and has none now, or a TTL node with no children
 * that was not modified within its TTL (ZooKeeper's deleteContainer). Refused if no longer so.
 */
export interface ReapRequest {
  op: 'reap';
  path: string;
}
/** Rebalancing, shard groups only: set part of a range exactly as the source group holds it. */
export interface ImportNodesRequest {
  op: 'importNodes';
  image: RangeImage;
  /** The rebalance coordinator's fencing token (COORDINATOR_TOKEN_PATH); absent = 0. */
  coordinatorToken?: number;
}
/** Rebalancing: refuse every later write to these hash ranges (they are moving away). */
export interface FenceRequest {
  op: 'fence';
  fenceId: string;
  ranges: HashRangeText[];
  toRingVersion: number;
  /** The rebalance coordinator's fencing token (COORDINATOR_TOKEN_PATH); absent = 0. */
  coordinatorToken?: number;
}
/** Rebalancing: forget these nodes, empty directories and sessions (a range that moved away), and the fence. */
export interface DropRangeRequest {
  op: 'dropRange';
  paths: string[];
  dirs: string[];
  sessions: number[];
  fenceId?: string;
  /** The rebalance coordinator's fencing token (COORDINATOR_TOKEN_PATH); absent = 0. */
  coordinatorToken?: number;
}
export type Request =
  | MultiOpRequest
  | MultiRequest
  | CreateSessionRequest
  | CloseSessionRequest
  | ReapRequest
  | ImportNodesRequest
  | FenceRequest
  | DropRangeRequest;

/** What `prepare` needs besides the request. */
export interface PrepareContext {
  /** The zxid the leader will propose this txn at; pending changes are cleared by it. */
  zxid: number;
  /** The requesting session (0 for none); the owner of an ephemeral. */
  sessionId: number;
  /** The leader's clock, for TTL checks. */
  now_ms: number;
}

// ---------------------------------------------------------------------------------------------
// Transactions: the replicated, deterministic, idempotent effects.

export interface CreateTxn {
  type: 'create';
  /** Final path (sequential suffix resolved). */
  path: string;
  data: Uint8Array;
  kind: NodeKind;
  /** Session id for ephemerals, 0 otherwise. */
  ephemeralOwner: number;
  /** TTL for kind 'ttl', 0 otherwise. */
  ttl_ms: number;
  /** The parent directory's create counter after this create (ZooKeeper's parentCVersion). */
  parentCreates: number;
}
export interface DeleteTxn {
  type: 'delete';
  path: string;
}
export interface SetDataTxn {
  type: 'setData';
  path: string;
  data: Uint8Array;
  /** The node's version after this set. */
  version: number;
}
export interface CheckTxn {
  type: 'check';
  path: string;
}
export type MultiSubTxn = CreateTxn | DeleteTxn | SetDataTxn | CheckTxn;
export interface MultiTxn {
  type: 'multi';
  txns: MultiSubTxn[];
}
export interface CreateSessionTxn {
  type: 'createSession';
  sessionId: number;
  timeout_ms: number;
}
export interface CloseSessionTxn {
  type: 'closeSession';
  sessionId: number;
  /** The session's ephemerals as the leader saw them; apply also deletes any it still indexes. */
  paths: string[];
}
/** Sets nodes, directory counters and sessions exactly as given (state-based: replay-safe). Fires no watches. */
export interface ImportNodesTxn extends RangeImage {
  type: 'importNodes';
  /** The rebalance coordinator's fencing token (COORDINATOR_TOKEN_PATH); absent = 0. */
  coordinatorToken?: number;
}
export interface FenceTxn {
  type: 'fence';
  fenceId: string;
  ranges: HashRangeText[];
  toRingVersion: number;
  /** The rebalance coordinator's fencing token (COORDINATOR_TOKEN_PATH); absent = 0. */
  coordinatorToken?: number;
}
/** Removes nodes, empty directories and sessions without firing watches, and the fence `fenceId` if given. */
export interface DropRangeTxn {
  type: 'dropRange';
  paths: string[];
  dirs: string[];
  sessions: number[];
  fenceId?: string;
  /** The rebalance coordinator's fencing token (COORDINATOR_TOKEN_PATH); absent = 0. */
  coordinatorToken?: number;
}
export type Txn = MultiSubTxn | MultiTxn | CreateSessionTxn | CloseSessionTxn | ImportNodesTxn | FenceTxn | DropRangeTxn;

// ---------------------------------------------------------------------------------------------
// Results of apply.

export type SubTxnResult =
  | { type: 'create'; path: string; stat: Stat }
  | { type: 'delete'; path: string }
  | { type: 'setData'; path: string; stat: Stat }
  | { type: 'check'; path: string }
  /**
   * The txn changed nothing because the state already reflects a later one. Expected only while
   * replaying the log over a fuzzy snapshot; on the live path prepare rules it out.
   */
  | { type: 'noop'; txnType: MultiSubTxn['type']; path: string };

export type TxnResult =
  | SubTxnResult
  | { type: 'multi'; results: SubTxnResult[] }
  | { type: 'createSession'; sessionId: number }
  | { type: 'closeSession'; sessionId: number; deleted: string[] }
  | { type: 'importNodes'; nodes: number; deletes: number; sessions: number; closedSessions: number }
  | { type: 'fence'; fenceId: string }
  | { type: 'dropRange'; deleted: number; fenceId?: string };

/**
 * Per-op outcome of a failed multi (carried in the MULTI_FAILED error's details.results):
 * ZooKeeper answers OK for the ops before the failing one (they were rolled back),
 * the error for the failing one and RUNTIME_INCONSISTENCY for those after (not run).
 */
export type MultiOpFailure =
  | { status: 'rolled_back' }
  | { status: 'failed'; code: string; message: string }
  | { status: 'not_run' };

// ---------------------------------------------------------------------------------------------
// Watches.

export type WatcherId = number | string;

export type WatchEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';

export interface WatchEvent {
  type: WatchEventType;
  path: string;
  zxid: number;
  /** Each watcher at most once per event. */
  watchers: WatcherId[];
}

export type PersistentWatchMode = 'persistent' | 'persistent_recursive';

export interface ApplyOutcome {
  result: TxnResult;
  /** Events in the order ZooKeeper triggers them; only those with at least one watcher. */
  events: WatchEvent[];
}
