/**
 * The state every role shares: identity, timing, the persistent epochs, the in-memory log window,
 * the durable / committed / applied points, and the Ready being built. Roles (election, leader,
 * follower) change it only through these methods, which assert ZAB's invariants.
 */
import { invariant } from '../errors/codes.js';
import { LogWindow } from './log-window.js';
import type { LogRecord, OutboundMessage, ZabMessage } from './messages.js';
import type { Prng } from './prng.js';
import { ReadyBuilder, type PersistentEpochs } from './ready.js';
import { formatZxid } from './zxid.js';

/** The state machine at the engine's applied zxid, serialised synchronously by the driver. */
export interface StateSnapshot {
  zxid: number;
  data: Uint8Array;
}

/** What the driver recovered from disk after a restart. */
export interface RecoveredState {
  epochs: PersistentEpochs;
  /** The zxid of the state machine snapshot the driver restored (0 = empty state). */
  snapshotZxid: number;
  /** Durable log records, in zxid order; records at or before snapshotZxid are ignored. */
  records: readonly LogRecord[];
}

export interface ZabConfig {
  id: number;
  /** Every member's id, this peer included: 1, 3 or 5 of them. */
  members: readonly number[];
  /** Seeded randomness (election timeouts, session numbers). */
  prng: Prng;
  /** Serialises the state machine at the engine's applied zxid (for SNAP syncs). */
  stateSnapshot: () => StateSnapshot;
  recovered?: RecoveredState;
  /** Leader PING period. Default 2 ticks. */
  heartbeatTicks?: number;
  /** A follower that hears nothing from its leader this long starts an election; elections
   * that decide nothing restart after a random span in [this, 2 x this). Default 10 ticks. */
  electionTimeoutTicks?: number;
  /** A leader that has not heard from a quorum this long steps down. Default 10 ticks. */
  leaderTimeoutTicks?: number;
  /** A prospective leader that is not established this long after winning steps down. Default 30 ticks. */
  setupTimeoutTicks?: number;
  /** Applied records kept in memory for DIFF syncs. Default 1000. */
  logWindowRecords?: number;
  /** Most records a leader re-sends to a lagging follower per heartbeat. Default 256. */
  retransmitBatchRecords?: number;
}

export interface Timing {
  heartbeatTicks: number;
  electionTimeoutTicks: number;
  leaderTimeoutTicks: number;
  setupTimeoutTicks: number;
  logWindowRecords: number;
  retransmitBatchRecords: number;
}

export class EngineCore {
  readonly id: number;
  readonly members: readonly number[];
  readonly peers: readonly number[];
  readonly quorum: number;
  readonly timing: Timing;
  readonly prng: Prng;
  readonly stateSnapshot: () => StateSnapshot;
  readonly out = new ReadyBuilder();
  readonly log: LogWindow;

  now = 0;
  epochs: PersistentEpochs;
  /** The epochs as last written (handed out in a Ready that was advanced). */
  durableEpochs: PersistentEpochs;
  /** Every record of the log through this zxid is durable. */
  durableZxid: number;
  /** The highest zxid known committed. */
  commitZxid: number;
  /** Handed to the driver to apply (in a Ready, maybe not yet advanced). */
  deliveredZxid: number;
  /** Applied by the driver (delivered in an advanced Ready): the state machine's zxid. */
  appliedZxid: number;

  constructor(config: ZabConfig) {
    invariant(config.members.includes(config.id), `member list lacks this peer ${config.id}`);
    invariant(new Set(config.members).size === config.members.length, 'member ids must be distinct');
    this.id = config.id;
    this.members = [...config.members];
    this.peers = this.members.filter((member) => member !== config.id);
    this.quorum = Math.floor(this.members.length / 2) + 1;
    const electionTimeoutTicks = config.electionTimeoutTicks ?? 10;
    this.timing = {
      heartbeatTicks: config.heartbeatTicks ?? 2,
      electionTimeoutTicks,
      leaderTimeoutTicks: config.leaderTimeoutTicks ?? electionTimeoutTicks,
      setupTimeoutTicks: config.setupTimeoutTicks ?? 3 * electionTimeoutTicks,
      logWindowRecords: config.logWindowRecords ?? 1000,
      retransmitBatchRecords: config.retransmitBatchRecords ?? 256,
    };
    invariant(this.timing.heartbeatTicks < this.timing.leaderTimeoutTicks, 'heartbeat must be shorter than the leader timeout');
    this.prng = config.prng;
    this.stateSnapshot = config.stateSnapshot;
    const recovered = config.recovered;
    this.epochs = recovered ? { ...recovered.epochs } : { acceptedEpoch: 0, currentEpoch: 0 };
    invariant(this.epochs.currentEpoch <= this.epochs.acceptedEpoch, 'currentEpoch after acceptedEpoch');
    this.durableEpochs = { ...this.epochs };
    const base = recovered?.snapshotZxid ?? 0;
    this.log = new LogWindow(base, (recovered?.records ?? []).filter((record) => record.zxid > base));
    this.durableZxid = this.log.lastZxid;
    this.commitZxid = base;
    this.deliveredZxid = base;
    this.appliedZxid = base;
  }

  send(to: number, message: ZabMessage): void {
    invariant(to !== this.id && this.members.includes(to), `send to a non-peer ${to}`);
    const outbound: OutboundMessage = { to, message };
    this.out.pending.messages.push(outbound);
  }

  broadcast(message: ZabMessage): void {
    for (const peer of this.peers) this.send(peer, message);
  }

  setEpochs(change: Partial<PersistentEpochs>): void {
    const next = { ...this.epochs, ...change };
    invariant(next.acceptedEpoch >= this.epochs.acceptedEpoch, 'acceptedEpoch went back');
    invariant(next.currentEpoch >= this.epochs.currentEpoch, 'currentEpoch went back');
    invariant(next.currentEpoch <= next.acceptedEpoch, 'currentEpoch after acceptedEpoch');
    this.epochs = next;
    this.out.pending.epochs = { ...next };
  }

  append(record: LogRecord): void {
    this.log.append(record);
    this.out.pending.records.push(record);
  }

  truncateAfter(zxid: number): void {
    invariant(zxid >= this.deliveredZxid, `truncation to ${formatZxid(zxid)} would drop applied ${formatZxid(this.deliveredZxid)}`);
    // Every logged record at or before the commit point is committed (the log is the leader's prefix).
    invariant(zxid >= Math.min(this.commitZxid, this.log.lastZxid),
      `truncation to ${formatZxid(zxid)} would drop committed ${formatZxid(this.commitZxid)}`);
    this.log.truncateAfter(zxid);
    this.out.truncateAfter(zxid);
    if (this.durableZxid > zxid) this.durableZxid = zxid;
  }

  installSnapshot(snapshot: StateSnapshot): void {
    invariant(snapshot.zxid >= this.deliveredZxid, `snapshot ${formatZxid(snapshot.zxid)} is older than applied ${formatZxid(this.deliveredZxid)}`);
    this.log.reset(snapshot.zxid);
    this.out.installSnapshot(snapshot);
    this.durableZxid = snapshot.zxid;
    this.deliveredZxid = snapshot.zxid;
    if (this.commitZxid < snapshot.zxid) this.commitZxid = snapshot.zxid;
  }

  /**
   * The driver reports the log durable through `zxid`. A zxid after the window's base that is no
   * longer in the log was truncated since: it says nothing about the records now in its place.
   * One at or before the base (trimmed, applied) can never have been truncated.
   */
  persisted(zxid: number): void {
    if (zxid > this.durableZxid && (zxid <= this.log.base || this.log.has(zxid))) this.durableZxid = Math.min(zxid, this.log.lastZxid);
  }

  /** Records `zxid` as committed and hands every log record through it to the driver, in order. */
  commitThrough(zxid: number): void {
    if (zxid > this.commitZxid) this.commitZxid = zxid;
    const through = Math.min(this.commitZxid, this.log.lastZxid);
    if (through <= this.deliveredZxid) return;
    if (!this.log.has(this.deliveredZxid)) invariant(false, `applied point ${formatZxid(this.deliveredZxid)} left the log: delivery would skip`);
    for (const record of this.log.between(this.deliveredZxid, through)) {
      invariant(record.zxid > this.deliveredZxid, 'delivery out of zxid order');
      this.out.pending.committed.push(record);
      this.deliveredZxid = record.zxid;
    }
  }

  /** Called when the driver advances: what it was handed is now written and applied. */
  advanced(epochs: PersistentEpochs | undefined, deliveredZxid: number): void {
    if (epochs !== undefined) this.durableEpochs = epochs;
    this.appliedZxid = deliveredZxid;
    this.log.trim(this.appliedZxid, this.timing.logWindowRecords);
  }
}
