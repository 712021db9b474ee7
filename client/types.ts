/**
 * The value types of the shardkv HTTP API as the SDK returns them. The SDK talks HTTP only and
 * imports nothing from the server side, so these mirror router/http/README.md.
 */

/** ZooKeeper's Stat. */
export interface Stat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** The owning session (as a number) for ephemeral nodes, 0 otherwise. */
  ephemeralOwner: number;
  dataLength: number;
  numChildren: number;
}

export type CreateMode =
  | 'persistent'
  | 'ephemeral'
  | 'sequential'
  | 'persistent_sequential'
  | 'ephemeral_sequential'
  | 'container'
  | 'ttl'
  | 'persistent_with_ttl'
  | 'persistent_sequential_with_ttl';

export type Consistency = 'linearizable' | 'sequential' | 'stale';

export interface NodeData {
  path: string;
  data: Uint8Array;
  /** The data as text when it is valid UTF-8, else null. */
  text: string | null;
  stat: Stat;
}

export interface ChildList {
  path: string;
  children: string[];
  /** The node's stat, or null when only the directory exists (implicit parents). */
  stat: Stat | null;
}

/**
 * `WatchesLost` (path `/`) is not a watch firing: a group got a new leader and the watches it
 * held are gone; re-read the watched paths with a watch (README, "Differences from ZooKeeper").
 */
export type WatchEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged' | 'WatchesLost';

export interface WatchEvent {
  type: WatchEventType;
  path: string;
  zxid: number;
}

export type MultiOp =
  | { op: 'create'; path: string; data?: string | Uint8Array; mode?: CreateMode; ttl_ms?: number }
  | { op: 'set'; path: string; data: string | Uint8Array; version?: number }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'check'; path: string; version?: number };

export type MultiResult =
  | { op: 'create'; path: string; stat: Stat }
  | { op: 'set'; path: string; stat: Stat }
  | { op: 'delete'; path: string }
  | { op: 'check'; path: string };

export interface RingInfo {
  version: number;
  vnodesPerGroup: number;
  groups: Array<{ id: string; state: 'active' | 'joining' | 'leaving'; tokenCount: number; share: number }>;
  tokens: Array<{ token: string; group: string }>;
}

export interface GroupInfo {
  id: string;
  /** `spare`: registered and running, not on the ring; `shardkv group add` puts it there. */
  state: 'active' | 'joining' | 'leaving' | 'spare';
  members: string[];
  leader: string | null;
}

export interface MetaNode extends NodeData {
  children: string[];
}

export interface Health {
  status: 'ok' | 'degraded' | 'down';
  checks: Array<{ name: string; ok: boolean; message?: string }>;
}
