/**
 * Requests a router (or another shard group) sends to a shard group's leader subject, and their
 * replies. Every request carries the sender's ring version; a group that does not own the
 * request's placement key at its own ring version answers MOVED with that version, and the
 * router refreshes its ring and retries.
 */
import type { HashRangeText, RangeImage } from '../znode/range-transfer.js';
import { placementKey } from '../ring/path.js';
import type { CreateMode, MultiOpRequest, Stat, TxnResult, WatchEventType } from '../znode/types.js';

export type ShardConsistency = 'linearizable' | 'sequential' | 'stale';

interface Base {
  ringVersion: number;
}

export type ShardRequest = Base & (
  | { op: 'create'; path: string; data: Uint8Array; mode: CreateMode; ttl_ms?: number; sessionId: number }
  | { op: 'setData'; path: string; data: Uint8Array; version: number }
  | { op: 'delete'; path: string; version: number }
  | { op: 'multi'; ops: MultiOpRequest[]; sessionId: number }
  | { op: 'read'; read: 'getData' | 'exists' | 'getChildren'; path: string; consistency: ShardConsistency; watchSession?: number }
  | { op: 'createSession'; sessionId: number; timeout_ms: number }
  | { op: 'keepalive'; sessionId: number }
  | { op: 'closeSession'; sessionId: number }
  /** Which of these sessions (all owned by the receiving group) are open: for ephemeral checks and cleanup. */
  | { op: 'sessionsAlive'; sessionIds: number[] }
  // Rebalancing (shard/range-ops.ts): the mover's requests to the source and the target group.
  /** Source: a page of the keys in `ranges`; cursor 0 (re)starts the export and its change journal. */
  | { op: 'exportRange'; exportId: string; ranges: HashRangeText[]; cursor: number; limit: number; maxBytes: number }
  /** Source: the current state of the keys the export's ranges changed after `sinceZxid`. */
  | { op: 'exportTail'; exportId: string; sinceZxid: number; limit: number }
  | { op: 'exportEnd'; exportId: string }
  /**
   * The ops below change the group's state: each carries the sending coordinator's fencing
   * token (its election sequence number; absent = 0), and the group refuses one lower than the
   * highest it has accepted (STALE_COORDINATOR), so a coordinator that lost its election
   * without knowing cannot undo its successor's work.
   */
  /** Target: set the image through the target's log (idempotent). */
  | { op: 'importRange'; image: RangeImage; coordinatorToken?: number }
  /** Source: from this txn on, writes to `ranges` answer MOVED. Idempotent by fenceId. */
  | { op: 'fenceRange'; fenceId: string; ranges: HashRangeText[]; toRingVersion: number; coordinatorToken?: number }
  /**
   * Drop every key in `ranges` (and the fence `fenceId`): on the source once the ring that moves
   * them is committed, on the target to restart a copy. Refused for any key this group owns at
   * its ring (at least the request's ring version).
   */
  | { op: 'dropRange'; ranges: HashRangeText[]; fenceId?: string; coordinatorToken?: number }
);

export interface ExportPageReply extends ShardReplyHeader {
  startZxid: number;
  image: RangeImage;
  nextCursor: number | null;
  totalEntries: number;
  size_bytes: number;
}

export interface ExportTailReply extends ShardReplyHeader {
  image: RangeImage;
  more: boolean;
  size_bytes: number;
}

export interface DropRangeReply extends ShardReplyHeader {
  deleted: number;
}

export interface ShardReplyHeader {
  /** The zxid the reply reflects (the write's own zxid for writes). */
  zxid: number;
  ringVersion: number;
}

export interface ShardWriteReply extends ShardReplyHeader {
  result: TxnResult;
}

export interface ShardReadReply extends ShardReplyHeader {
  data?: Uint8Array;
  stat: Stat | null;
  children?: string[];
}

export interface ShardSessionReply extends ShardReplyHeader {
  sessionId: number;
  timeout_ms: number;
}

export interface SessionsAliveReply extends ShardReplyHeader {
  alive: number[];
}

/**
 * A watch event, published to the session's events subject (Subjects.events(sessionWatcher(id))).
 * `SessionClosed` ends the session's stream. `WatchesLost` goes to every session (subject
 * Subjects.events(ALL_SESSIONS)): a group has a new leader, which holds none of the watches
 * registered on the old one; a client re-registers its watches on the group's paths by reading
 * them again with watch=1 (ZooKeeper clients do the same after a reconnect), and compares mzxid.
 */
export interface SessionEvent {
  type: WatchEventType | 'SessionClosed' | 'WatchesLost';
  path: string;
  zxid: number;
  /** For WatchesLost: the group whose leader changed. */
  group?: string;
}

/** The events subject id every router listens on for notices meant for all sessions. */
export const ALL_SESSIONS = 'all-sessions';

/** Published by a session's owning group when the session closes or expires. */
export interface SessionClosedNotice {
  sessionId: number;
}

/**
 * Sessions are placed by their own id (DESIGN.md, "Sessions"): this key goes through the ring
 * as a placement key, so sessions spread over the groups and move with rebalancing.
 */
export function sessionPlacementKey(sessionId: number): string {
  return `/__sessions/${sessionId}`;
}

/**
 * The ring key a read is routed and checked by: a node's placement key (its parent path), but
 * for a child listing the directory itself, since that is what its children are placed by.
 */
export function readPlacementKey(read: 'getData' | 'exists' | 'getChildren', path: string): string {
  return read === 'getChildren' ? path : placementKey(path);
}

/** The watcher id (and events subject id) of a session. */
export function sessionWatcher(sessionId: number): string {
  return `s${sessionId}`;
}
