/**
 * Requests a router (or another shard group) sends to a shard group's leader subject, and their
 * replies. Every request carries the sender's ring version; a group that does not own the
 * request's placement key at its own ring version answers MOVED with that version, and the
 * router refreshes its ring and retries.
 */
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
);

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

/** The watcher id (and events subject id) of a session. */
export function sessionWatcher(sessionId: number): string {
  return `s${sessionId}`;
}
