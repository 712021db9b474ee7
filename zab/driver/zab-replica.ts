/**
 * ZabReplica: the driver that turns the pure ZabEngine into a running replica. It owns the
 * clock (a tick timer), the disk (ReplicaStorage: epochs, txn log with group commit,
 * snapshots), the peer link and the state machine, and carries out each Ready in the order
 * ready.ts prescribes. Inputs that arrive while a Ready is being carried out wait in a queue
 * and are fed to the engine after advance(); so everything that arrives during one fsync
 * goes into the next Ready, which is group commit.
 */
import { randomInt } from 'node:crypto';
import { pack, unpack } from 'msgpackr';
import { invariant, ShardkvError } from '../../errors/codes.js';
import type { Logger } from '../../logging/logger.js';
import { ZabEngine, type EngineStatus, type Ready, type RoleChange } from '../engine.js';
import type { LogRecord } from '../messages.js';
import { Prng } from '../prng.js';
import { ReplicaStorage } from '../storage/replica-storage.js';
import { formatZxid, nextZxid } from '../zxid.js';
import type { PeerLink } from './peer-link.js';
import type { ReplicatedStateMachine } from './state-machine.js';

export interface ZabTiming {
  /** One engine tick. Default 50 ms. */
  tick_ms?: number;
  heartbeatTicks?: number;
  electionTimeoutTicks?: number;
  logWindowRecords?: number;
}

export interface ZabReplicaOptions<Result> {
  /** This replica's engine id (1-based position in the sorted member list). */
  id: number;
  members: readonly number[];
  dataDir: string;
  stateMachine: ReplicatedStateMachine<Result>;
  link: PeerLink;
  logger: Logger;
  timing?: ZabTiming;
  /** A background fuzzy snapshot after this many applied transactions. Default 10 000. */
  snapshotEveryTxns?: number;
  snapshotRetain?: number;
  segmentSize_bytes?: number;
  /** Called on every role change (after it is carried out). */
  onRoleChange?: (change: RoleChange) => void;
  /** Called when the replica cannot go on (a failed fsync, a corrupt log): the process should exit. */
  onFatal?: (err: unknown) => void;
}

interface PendingProposal<Result> {
  resolve: (value: { zxid: number; result: Result }) => void;
  reject: (err: unknown) => void;
}

interface PendingRead {
  resolve: () => void;
  reject: (err: unknown) => void;
}

const DEFAULT_TICK_MS = 50;

export class ZabReplica<Result = unknown> {
  private readonly inputs: Array<() => void> = [];
  private readonly proposalsByTag = new Map<number, PendingProposal<Result>>();
  private readonly tagByZxid = new Map<number, number>();
  private readonly reads = new Map<number, PendingRead>();
  private readonly appliedWaiters: Array<{ zxid: number; resolve: () => void }> = [];
  /** Refusals by `build` that rest on proposals not yet applied: answered once those are (see proposeWith). */
  private readonly heldRefusals: Array<{ zxid: number; answer: () => void; reject: (err: unknown) => void }> = [];
  private nextTag = 1;
  private nextReadId = 1;
  private pumping = false;
  private pumpScheduled = false;
  private stopped = false;
  private ticker: NodeJS.Timeout | undefined;
  private appliedSinceSnapshot = 0;
  /** The state machine's zxid: the last record applied. */
  private appliedZxid = 0;
  private snapshotRunning = false;
  private currentRole: RoleChange = { role: 'looking' };
  /** Counters for status and tests. */
  readonly stats = { snapshotsInstalled: 0, snapshotsTaken: 0, proposals: 0 };

  private constructor(
    private readonly options: ZabReplicaOptions<Result>,
    private readonly storage: ReplicaStorage,
    private readonly engine: ZabEngine,
    private readonly log: Logger,
  ) {}

  /** Recovers from `dataDir` (newest valid snapshot + log), then starts ticking and listening. */
  static async start<Result>(options: ZabReplicaOptions<Result>): Promise<ZabReplica<Result>> {
    const log = options.logger;
    const storage = await ReplicaStorage.open(options.dataDir, {
      logger: log,
      ...(options.snapshotRetain === undefined ? {} : { snapshotRetain: options.snapshotRetain }),
      ...(options.segmentSize_bytes === undefined ? {} : { segmentSize_bytes: options.segmentSize_bytes }),
    });
    const recovered = storage.recovered;
    const machine = options.stateMachine;
    if (recovered.snapshot !== undefined) machine.restoreChunks(recovered.snapshot.chunks);
    const records: LogRecord[] = [];
    // Copy: the log hands out views into its read buffer.
    for await (const record of recovered.records) records.push({ zxid: record.zxid, payload: record.payload.slice() });
    const timing = options.timing ?? {};
    let engineRef: ZabEngine | undefined;
    let appliedZxid = recovered.snapshot?.zxid ?? 0;
    const engine = new ZabEngine({
      id: options.id,
      members: options.members,
      prng: new Prng(randomInt(2 ** 31)),
      // SNAP sync of a lagging follower: the state at the engine's applied zxid, which is the
      // state machine's, since this is only called between Readies.
      stateSnapshot: () => ({
        zxid: engineRef?.status().appliedZxid ?? appliedZxid,
        data: pack([...machine.snapshotChunks()]),
      }),
      recovered: {
        epochs: {
          acceptedEpoch: recovered.acceptedEpoch,
          currentEpoch: recovered.currentEpoch,
        },
        snapshotZxid: recovered.snapshot?.zxid ?? 0,
        records,
      },
      ...(timing.heartbeatTicks === undefined ? {} : { heartbeatTicks: timing.heartbeatTicks }),
      ...(timing.electionTimeoutTicks === undefined ? {} : { electionTimeoutTicks: timing.electionTimeoutTicks }),
      ...(timing.logWindowRecords === undefined ? {} : { logWindowRecords: timing.logWindowRecords }),
    });
    engineRef = engine;
    appliedZxid = engine.status().appliedZxid;
    const replica = new ZabReplica(options, storage, engine, log);
    replica.appliedZxid = appliedZxid;
    await options.link.listen((message) => replica.input(() => engine.step(message)));
    replica.ticker = setInterval(() => replica.input(() => engine.tick()), timing.tick_ms ?? DEFAULT_TICK_MS);
    log.info({ id: options.id, members: options.members, recoveredZxid: formatZxid(recovered.lastZxid), logRecords: records.length }, 'zab replica started');
    replica.schedulePump();
    return replica;
  }

  status(): EngineStatus {
    return this.engine.status();
  }

  get role(): RoleChange {
    return this.currentRole;
  }

  get isLeader(): boolean {
    return this.currentRole.role === 'leading' && this.engine.status().established;
  }

  /**
   * Proposes a transaction (leader only). Resolves with its zxid and the state machine's apply
   * result once a quorum has it durable and it is applied here. Rejects NOT_LEADER at once on
   * a non-leader, and CONNECTION_LOSS when leadership is lost before the commit: then the
   * outcome is unknown, as with ZooKeeper's connection loss.
   */
  propose(payload: Uint8Array): Promise<{ zxid: number; result: Result }> {
    if (this.stopped) return Promise.reject(new ShardkvError('UNAVAILABLE', 'replica is stopped'));
    return new Promise((resolve, reject) => {
      const tag = this.nextTag++;
      this.proposalsByTag.set(tag, { resolve, reject });
      this.input(() => {
        const zxid = this.engine.propose(payload, tag);
        if (zxid !== undefined) {
          this.tagByZxid.set(zxid, tag);
          this.stats.proposals += 1;
        }
      });
    });
  }

  /**
   * Like propose, for payloads that depend on the zxid they will get (a ZooKeeper-style
   * preparer records pending changes under it): `build` runs on the leader right before the
   * proposal, with that zxid. An error thrown by `build` rejects the promise; nothing is proposed.
   *
   * A refusal is answered only once it is known to hold, as ZooKeeper sends its error txns down
   * the same pipeline as its writes: it may rest on changes this leader proposed but has not
   * committed (BAD_VERSION because of a pending setData), so it is held until everything proposed
   * before it is applied; and this leader may have been voted out without knowing yet, its tree
   * missing its successor's writes, so a read barrier confirms the quorum before the answer.
   * Answered at once, a client could see the effect of a write that never happened, or miss one
   * that did. If leadership goes first, the refusal becomes NOT_LEADER: nothing was applied, so
   * a retry at the next leader is safe.
   */
  proposeWith(build: (zxid: number) => Uint8Array): Promise<{ zxid: number; result: Result }> {
    if (this.stopped) return Promise.reject(new ShardkvError('UNAVAILABLE', 'replica is stopped'));
    return new Promise((resolve, reject) => {
      this.input(() => {
        const status = this.engine.status();
        if (status.role !== 'leading' || !status.established) {
          reject(notLeader(status.leader));
          return;
        }
        const expected = nextZxid(status.lastZxid, status.epoch);
        let payload: Uint8Array;
        try {
          payload = build(expected);
        } catch (err) {
          const answer = (): void => void this.readBarrier().then(() => reject(err), reject);
          if (this.appliedZxid >= status.lastZxid) answer();
          else this.heldRefusals.push({ zxid: status.lastZxid, answer, reject });
          return;
        }
        const tag = this.nextTag++;
        this.proposalsByTag.set(tag, { resolve, reject });
        const zxid = this.engine.propose(payload, tag);
        invariant(zxid === expected, `leader proposed at ${zxid === undefined ? 'nothing' : formatZxid(zxid)}, expected ${formatZxid(expected)}`);
        this.tagByZxid.set(zxid, tag);
        this.stats.proposals += 1;
      });
    });
  }

  /** Linearizable read barrier: resolves once this leader confirmed its quorum and applied all it had committed. */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new ShardkvError('UNAVAILABLE', 'replica is stopped'));
    return new Promise((resolve, reject) => {
      const readId = this.nextReadId++;
      this.reads.set(readId, { resolve, reject });
      this.input(() => this.engine.requestRead(readId));
    });
  }

  /** Resolves once this replica has applied `zxid` (sequential consistency for a client that saw it). */
  waitApplied(zxid: number): Promise<void> {
    if (this.appliedZxid >= zxid) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaiters.push({ zxid, resolve }));
  }

  /** Stops ticking and listening, fails what is pending, and closes the storage. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.failPending(new ShardkvError('UNAVAILABLE', 'replica stopped'));
    await this.options.link.close();
    while (this.pumping || this.snapshotRunning) await new Promise((resolve) => setImmediate(resolve));
    await this.storage.close();
  }

  private input(feed: () => void): void {
    if (this.stopped) return;
    this.inputs.push(feed);
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.pumping) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      for (;;) {
        const fed = this.inputs.splice(0);
        for (const feed of fed) feed();
        if (!this.engine.hasReady()) break;
        const ready = this.engine.ready();
        await this.carryOut(ready);
        this.engine.advance();
      }
    } catch (err) {
      this.fatal(err);
    } finally {
      this.pumping = false;
    }
    if (this.inputs.length > 0) this.schedulePump();
  }

  /** One Ready, in the order ready.ts prescribes. */
  private async carryOut(ready: Ready): Promise<void> {
    const storage = this.storage;
    if (ready.epochs !== undefined) await storage.writeEpochs(ready.epochs);
    if (ready.installSnapshot !== undefined) {
      const { zxid, data } = ready.installSnapshot;
      const chunks = unpack(data) as Uint8Array[];
      this.options.stateMachine.restoreChunks(chunks);
      this.appliedZxid = zxid;
      this.stats.snapshotsInstalled += 1;
      await storage.installSnapshot(zxid, chunks);
      this.log.info({ zxid: formatZxid(zxid), bytes: data.byteLength }, 'installed snapshot from leader (SNAP sync)');
    }
    if (ready.truncateAfter !== undefined) await storage.log.truncateAfter(ready.truncateAfter);
    if (ready.records.length > 0) {
      const last = (ready.records[ready.records.length - 1] as LogRecord).zxid;
      storage.log.append(ready.records).then(
        () => this.input(() => this.engine.persisted(last)),
        (err: unknown) => this.fatal(err),
      );
    }
    for (const record of ready.committed) this.applyCommitted(record);
    for (const readId of ready.readsConfirmed) this.settleRead(readId, undefined);
    for (const failed of ready.readsFailed) this.settleRead(failed.readId, notLeader(failed.leader));
    for (const failed of ready.proposalsFailed) {
      const pending = this.proposalsByTag.get(failed.tag);
      this.proposalsByTag.delete(failed.tag);
      pending?.reject(notLeader(failed.leader));
    }
    for (const { to, message } of ready.messages) this.options.link.send(to, message);
    for (const change of ready.roles) this.changeRole(change);
    this.maybeSnapshot();
  }

  private applyCommitted(record: LogRecord): void {
    const result = this.options.stateMachine.apply(record);
    this.appliedZxid = record.zxid;
    this.appliedSinceSnapshot += 1;
    const tag = this.tagByZxid.get(record.zxid);
    if (tag !== undefined) {
      this.tagByZxid.delete(record.zxid);
      const pending = this.proposalsByTag.get(tag);
      this.proposalsByTag.delete(tag);
      pending?.resolve({ zxid: record.zxid, result });
    }
    while (this.heldRefusals.length > 0 && (this.heldRefusals[0] as { zxid: number }).zxid <= record.zxid) {
      (this.heldRefusals.shift() as { answer: () => void }).answer();
    }
    if (this.appliedWaiters.length > 0) {
      for (let i = this.appliedWaiters.length - 1; i >= 0; i--) {
        const waiter = this.appliedWaiters[i] as { zxid: number; resolve: () => void };
        if (waiter.zxid <= record.zxid) {
          this.appliedWaiters.splice(i, 1);
          waiter.resolve();
        }
      }
    }
  }

  private settleRead(readId: number, err: ShardkvError | undefined): void {
    const pending = this.reads.get(readId);
    this.reads.delete(readId);
    if (pending === undefined) return;
    if (err === undefined) pending.resolve();
    else pending.reject(err);
  }

  private changeRole(change: RoleChange): void {
    const wasLeading = this.currentRole.role === 'leading';
    this.currentRole = change;
    this.log.info({ zabRole: change.role, leader: change.leader, epoch: change.epoch, reason: change.reason }, 'zab role change');
    if (wasLeading && change.role !== 'leading') {
      // Proposals in flight may still be committed by the next leader, or not.
      const lost = new ShardkvError('CONNECTION_LOSS', 'leadership was lost before the write committed; its outcome is unknown');
      for (const pending of this.proposalsByTag.values()) pending.reject(lost);
      this.proposalsByTag.clear();
      this.tagByZxid.clear();
      for (const held of this.heldRefusals.splice(0)) held.reject(notLeader(change.leader));
    }
    this.options.onRoleChange?.(change);
  }

  /** A background fuzzy snapshot every snapshotEveryTxns applied transactions. */
  private maybeSnapshot(): void {
    const every = this.options.snapshotEveryTxns ?? 10_000;
    if (this.snapshotRunning || this.appliedSinceSnapshot < every) return;
    this.appliedSinceSnapshot = 0;
    this.snapshotRunning = true;
    // Label and first chunk are taken together, synchronously: the state machine's snapshot
    // starts at exactly this zxid, and recovery replays the log after it.
    const zxid = this.appliedZxid;
    const chunks = this.options.stateMachine.snapshotChunks();
    const started = Date.now();
    this.storage.takeSnapshot(zxid, { snapshotChunks: () => chunks }).then(
      () => {
        this.snapshotRunning = false;
        this.stats.snapshotsTaken += 1;
        this.log.info({ zxid: formatZxid(zxid), ms: Date.now() - started }, 'snapshot taken');
      },
      (err: unknown) => {
        this.snapshotRunning = false;
        this.fatal(err);
      },
    );
  }

  private failPending(err: ShardkvError): void {
    for (const held of this.heldRefusals.splice(0)) held.reject(err);
    for (const pending of this.proposalsByTag.values()) pending.reject(err);
    this.proposalsByTag.clear();
    this.tagByZxid.clear();
    for (const pending of this.reads.values()) pending.reject(err);
    this.reads.clear();
  }

  private fatal(err: unknown): void {
    if (this.stopped) return;
    this.log.fatal({ err }, 'zab replica cannot go on');
    this.stopped = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.failPending(new ShardkvError('UNAVAILABLE', 'replica failed'));
    this.options.onFatal?.(err);
  }
}

function notLeader(leader: number | undefined): ShardkvError {
  return new ShardkvError('NOT_LEADER', 'this replica is not the leader', leader === undefined ? undefined : { leader });
}
