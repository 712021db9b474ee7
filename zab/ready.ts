/**
 * What the engine asks its driver to do, collected between two `advance()` calls (etcd raft's
 * Ready). The driver handles the parts in this order:
 *   1. `epochs`: write durably before anything else (before sending any message of this Ready).
 *   2. `installSnapshot`: replace the state machine and discard the WHOLE log, durably.
 *   3. `truncateAfter`: drop log records with a greater zxid.
 *   4. `records`: append to the log; fsync (may be asynchronous, group commit), then call
 *      `persisted(zxid of the last durable record)`. Durability must be FIFO: a persisted(z)
 *      covers every earlier truncate and append.
 *   5. `committed`: apply to the state machine, in order.
 *   6. `readsConfirmed`: answer these linearizable reads from the state machine now.
 *   7. `messages`: send (best effort; the engine repairs loss, duplication and reordering).
 *   then call `advance()`.
 */
import type { ShardkvError } from '../errors/codes.js';
import type { LogRecord, OutboundMessage } from './messages.js';

export interface PersistentEpochs {
  /** The highest epoch this peer promised (ZAB's acceptedEpoch, f.p). */
  acceptedEpoch: number;
  /** The epoch of the last NEWLEADER it accepted (ZAB's currentEpoch, f.a). */
  currentEpoch: number;
}

export type Role = 'looking' | 'following' | 'leading';

export interface RoleChange {
  role: Role;
  /** The leader's id (following, leading), once known. */
  leader?: number;
  /** Set when the role is established: the leader has a quorum synced, or the follower is synced. */
  epoch?: number;
  /** Why a peer went looking (for logs). */
  reason?: string;
}

export interface FailedProposal {
  tag: number;
  code: Extract<ShardkvError['code'], 'NOT_LEADER'>;
  /** The leader this peer follows, when it knows one. */
  leader?: number;
}

export interface FailedRead {
  readId: number;
  code: Extract<ShardkvError['code'], 'NOT_LEADER'>;
  leader?: number;
}

export interface Ready {
  epochs?: PersistentEpochs;
  installSnapshot?: { zxid: number; data: Uint8Array };
  truncateAfter?: number;
  records: LogRecord[];
  committed: LogRecord[];
  readsConfirmed: number[];
  readsFailed: FailedRead[];
  proposalsFailed: FailedProposal[];
  messages: OutboundMessage[];
  /** Every role change since the last Ready, oldest first. */
  roles: RoleChange[];
}

export function emptyReady(): Ready {
  return { records: [], committed: [], readsConfirmed: [], readsFailed: [], proposalsFailed: [], messages: [], roles: [] };
}

/** Accumulates one Ready, keeping its parts consistent when a later event supersedes an earlier one. */
export class ReadyBuilder {
  private current: Ready = emptyReady();

  get pending(): Ready {
    return this.current;
  }

  take(): Ready {
    const out = this.current;
    this.current = emptyReady();
    return out;
  }

  isEmpty(): boolean {
    const r = this.current;
    return r.epochs === undefined && r.installSnapshot === undefined && r.truncateAfter === undefined &&
      r.records.length === 0 && r.committed.length === 0 && r.readsConfirmed.length === 0 &&
      r.readsFailed.length === 0 && r.proposalsFailed.length === 0 && r.messages.length === 0 && r.roles.length === 0;
  }

  /** A snapshot supersedes every log change and every application queued before it. */
  installSnapshot(snapshot: { zxid: number; data: Uint8Array }): void {
    const r = this.current;
    r.installSnapshot = snapshot;
    r.truncateAfter = undefined;
    r.records = [];
    r.committed = r.committed.filter((record) => record.zxid > snapshot.zxid);
  }

  /** Queued appends after the point are dropped; the disk truncates to the lowest point asked. */
  truncateAfter(zxid: number): void {
    const r = this.current;
    r.records = r.records.filter((record) => record.zxid <= zxid);
    r.truncateAfter = r.truncateAfter === undefined ? zxid : Math.min(r.truncateAfter, zxid);
  }
}
