/**
 * The cluster as the router's HTTP layer sees it. The HTTP layer (server.ts) parses and
 * validates requests, calls one method of a ClusterBackend and turns the result or the
 * ShardkvError into JSON. The real backend (ring lookup, forwarding to the group leaders,
 * MOVED retries) and the in-memory test backend both implement this interface.
 *
 * Every method fails with a ShardkvError whose code is in errors/codes.ts (NO_NODE,
 * NODE_EXISTS, BAD_VERSION, SESSION_EXPIRED, NO_LEADER, ...); anything else is answered
 * 500 INTERNAL and logged with its stack.
 *
 * Session ids are numbers here (the znode model's: positive integers below 2^53) and decimal
 * strings on the HTTP API (session-id.ts converts).
 */
import type { GroupState } from '../../ring/group.js';
import type { CreateMode, MultiOpRequest, Stat, WatchEventType } from '../../znode/types.js';

export type Consistency = 'linearizable' | 'sequential' | 'stale';

export interface CreateOptions {
  /** The owning session, required for the ephemeral modes. */
  sessionId?: number;
  /** Required (> 0) for the *_with_ttl modes, absent otherwise. */
  ttl_ms?: number;
}

export interface ReadOptions {
  consistency: Consistency;
  /** Register a one-shot watch for `sessionId`; delivered on that session's event stream. */
  watch: boolean;
  /** Present whenever `watch` is true (the HTTP layer checks). */
  sessionId?: number;
}

export interface ChildrenOptions {
  watch: boolean;
  sessionId?: number;
}

export interface NodeRead {
  data: Uint8Array;
  stat: Stat;
}

export interface ChildrenRead {
  /** Child names, sorted. */
  children: string[];
  /** The node's own stat, or null when the directory has no node (implicit parents). */
  stat: Stat | null;
}

/** One op's outcome of a successful multi, in the order of the ops. */
export type MultiOpResult =
  | { op: 'create'; path: string; stat: Stat }
  | { op: 'setData'; path: string; stat: Stat }
  | { op: 'delete'; path: string }
  | { op: 'check'; path: string };

/** A watch event delivered to a session (the znode model's WatchEvent without its watcher list). */
export interface SessionWatchEvent {
  /**
   * A znode watch event, or `WatchesLost`: the group named in `group` has a new leader, which
   * holds none of the watches set on the old one; re-read watched paths with watch=1.
   */
  type: WatchEventType | 'WatchesLost';
  path: string;
  zxid: number;
  group?: string;
}

export interface RingGroupView {
  id: string;
  state: GroupState;
  tokenCount: number;
  /** Fraction of the hash space the group owns, 0..1. */
  share: number;
}

export interface RingView {
  version: number;
  vnodesPerGroup: number;
  groups: RingGroupView[];
  /** Every token, ascending: the 64-bit token as 16 lower-case hex digits and its owner. */
  tokens: Array<{ token: string; group: string }>;
}

export interface GroupView {
  id: string;
  /** Its state on the ring, or `spare`: registered in meta, running, not on the ring (yet). */
  state: GroupState | 'spare';
  /** Live replica ids (from the group's membership in the meta tree). */
  members: string[];
  /** The replica the router last saw leading, or null when it knows none. */
  leader: string | null;
}

export interface MetaRead {
  data: Uint8Array;
  stat: Stat;
  children: string[];
}

export interface HealthCheck {
  name: string;
  ok: boolean;
  message?: string;
}

export interface HealthView {
  /** `down` answers 503; `ok` and `degraded` answer 200. */
  status: 'ok' | 'degraded' | 'down';
  checks: HealthCheck[];
}

export interface ClusterBackend {
  /** Returns the created path (with its sequence suffix for the sequential modes). */
  create(path: string, data: Uint8Array, mode: CreateMode, options: CreateOptions): Promise<{ path: string; stat: Stat }>;
  get(path: string, options: ReadOptions): Promise<NodeRead>;
  /** Stat or null; a watch is set also on a missing node (it fires NodeCreated). */
  exists(path: string, options: ReadOptions): Promise<Stat | null>;
  /** `version` -1 sets whatever the version. */
  set(path: string, data: Uint8Array, version: number): Promise<{ stat: Stat }>;
  /** `version` -1 deletes whatever the version. */
  delete(path: string, version: number): Promise<void>;
  children(path: string, options: ChildrenOptions): Promise<ChildrenRead>;
  /**
   * All or nothing. The ops' paths are validated by the HTTP layer; the backend refuses a multi
   * across groups (CROSS_SHARD_MULTI) and answers MULTI_FAILED with the znode model's details.
   */
  multi(ops: MultiOpRequest[], options: { sessionId?: number }): Promise<MultiOpResult[]>;

  openSession(timeout_ms: number): Promise<{ id: number; timeout_ms: number }>;
  /** SESSION_EXPIRED for an unknown or expired session. */
  keepalive(sessionId: number): Promise<void>;
  closeSession(sessionId: number): Promise<void>;
  /**
   * The session's watch events, in order. Rejects with SESSION_EXPIRED for an unknown session
   * (before the HTTP layer sends any header). The iterable ends when the session closes or
   * expires, or when `signal` aborts (the HTTP client went away).
   */
  sessionEvents(sessionId: number, signal: AbortSignal): Promise<AsyncIterable<SessionWatchEvent>>;

  ring(): Promise<RingView>;
  groups(): Promise<GroupView[]>;
  /** Read-only view of the meta tree (strict hierarchy: NO_NODE if missing). */
  metaGet(path: string): Promise<MetaRead>;
  health(): Promise<HealthView>;
}
