/**
 * The meta ensemble's request/reply messages (over net/, msgpack-encoded). Writes, sessions and
 * watched or linearizable reads go to the leader subject; sequential and stale reads to the read
 * queue that every replica serves. Every reply carries the serving replica's epoch and last
 * applied zxid, so a client can ask a later read to be at least that fresh and can tell that the
 * leader changed (then it re-registers its watches, as ZooKeeper's setWatches).
 */
import type { CreateMode, MultiOpRequest, PersistentWatchMode, Stat, TxnResult, WatchEventType } from '../znode/types.js';

export type Consistency = 'linearizable' | 'sequential' | 'stale';

export interface WriteRequest {
  op: 'write';
  request: MultiOpRequest | { op: 'multi'; ops: MultiOpRequest[] };
  /** The session an ephemeral belongs to (0 for none). */
  sessionId: number;
}
export interface CreateSessionRequest {
  op: 'createSession';
  timeout_ms: number;
}
export interface CloseSessionRequest {
  op: 'closeSession';
  sessionId: number;
}
export interface PingRequest {
  op: 'ping';
  /** Keeps this session alive; 0 to only learn the leader's epoch. */
  sessionId: number;
}
export interface ReadRequest {
  op: 'read';
  read: 'getData' | 'exists' | 'getChildren';
  path: string;
  consistency: Consistency;
  /** Register a one-shot watch for this watcher (forces a leader read). */
  watcher?: string;
  /** Sequential reads wait until the replica has applied at least this zxid. */
  minZxid?: number;
}
export interface AddWatchRequest {
  op: 'addWatch';
  path: string;
  watcher: string;
  mode: PersistentWatchMode;
}
/** Re-registers a client's watches on a new leader; fires at once what changed after relativeZxid. */
export interface SetWatchesRequest {
  op: 'setWatches';
  watcher: string;
  relativeZxid: number;
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
}
export interface RemoveWatcherRequest {
  op: 'removeWatcher';
  watcher: string;
}
export interface StatusRequest {
  op: 'status';
}

export type MetaRequest =
  | WriteRequest
  | CreateSessionRequest
  | CloseSessionRequest
  | PingRequest
  | ReadRequest
  | AddWatchRequest
  | SetWatchesRequest
  | RemoveWatcherRequest
  | StatusRequest;

/** Fields of every reply. */
export interface ReplyHeader {
  epoch: number;
  zxid: number;
}

export interface WriteReply extends ReplyHeader {
  result: TxnResult;
}
export interface SessionReply extends ReplyHeader {
  sessionId: number;
  timeout_ms: number;
}
export interface ReadReply extends ReplyHeader {
  data?: Uint8Array;
  stat: Stat | null;
  children?: string[];
}
export type AckReply = ReplyHeader;

export interface ReplicaStatus extends ReplyHeader {
  id: string;
  role: 'looking' | 'following' | 'leading';
  leader?: string;
  established: boolean;
  appliedZxid: number;
  nodeCount: number;
  sessions: number;
  watches: number;
  snapshotsInstalled: number;
  snapshotsTaken: number;
}

/** A watch notification, published to the watcher's events subject. */
export interface WatchNotification {
  type: WatchEventType;
  path: string;
  zxid: number;
}

export type { CreateMode };
