/**
 * A znode tree replicated by ZAB: the part the meta ensemble and every shard group share. It
 * runs the ZAB driver over the peer link, prepares requests on the leader at the zxid they will
 * get (ZooKeeper's PrepRequestProcessor with its outstanding changes), and while leading expires
 * sessions and reaps empty containers and expired TTL nodes through the log. The roles put
 * their own request protocol on top.
 */
import type { Logger } from '../logging/logger.js';
import { Subjects } from '../net/subjects.js';
import type { Transport } from '../net/transport.js';
import { BusPeerLink } from '../zab/driver/bus-peer-link.js';
import { ZabReplica, type ZabTiming } from '../zab/driver/zab-replica.js';
import type { RoleChange } from '../zab/ready.js';
import { TxnPreparer } from '../znode/txn-preparer.js';
import type { Hierarchy, Request, TxnResult, WatchEvent } from '../znode/types.js';
import { ZnodeTree } from '../znode/znode-tree.js';
import { EnsembleMembers } from './ensemble-members.js';
import { encodeTxnPayload, TreeStateMachine } from './tree-state-machine.js';

export interface TreeReplicaOptions {
  /** `meta` or the shard group's id: names the peer subjects. */
  ensemble: string;
  nodeId: string;
  peers: readonly string[];
  transport: Transport;
  prefix: string;
  dataDir: string;
  logger: Logger;
  hierarchy: Hierarchy;
  sessionScope: 'local' | 'external';
  timing?: ZabTiming;
  snapshotEveryTxns?: number;
  snapshotRetain?: number;
  maxDataBytes?: number;
  /** How often the leader looks for expired sessions. Default 100 ms. */
  sessionCheck_ms?: number;
  /** How often the leader reaps empty containers and expired TTL nodes. Default 1000 ms. */
  reap_ms?: number;
  /** The replica became (true) or stopped being (false) the established leader. */
  onLeadership?: (leading: boolean, epoch: number) => void;
  onWatchEvents?: (events: WatchEvent[]) => void;
  /** Every applied transaction's result, on every replica. */
  onApplied?: (zxid: number, result: TxnResult) => void;
  onFatal?: (err: unknown) => void;
}

/** The knobs a role passes through to its TreeReplica unchanged. */
export type ReplicaTuning = Pick<TreeReplicaOptions, 'timing' | 'snapshotEveryTxns' | 'snapshotRetain' | 'maxDataBytes' | 'onFatal'>;

/** The tuning fields that are set in `options` (exactOptionalPropertyTypes-friendly pass-through). */
export function replicaTuning(options: ReplicaTuning): ReplicaTuning {
  const tuning: ReplicaTuning = {};
  if (options.timing !== undefined) tuning.timing = options.timing;
  if (options.snapshotEveryTxns !== undefined) tuning.snapshotEveryTxns = options.snapshotEveryTxns;
  if (options.snapshotRetain !== undefined) tuning.snapshotRetain = options.snapshotRetain;
  if (options.maxDataBytes !== undefined) tuning.maxDataBytes = options.maxDataBytes;
  if (options.onFatal !== undefined) tuning.onFatal = options.onFatal;
  return tuning;
}

export interface TreeReplicaStatus {
  id: string;
  ensemble: string;
  role: 'looking' | 'following' | 'leading';
  leader?: string;
  established: boolean;
  epoch: number;
  zxid: number;
  nodeCount: number;
  sessions: number;
  watches: number;
  snapshotsInstalled: number;
  snapshotsTaken: number;
}

export class TreeReplica {
  readonly tree: ZnodeTree;
  readonly subjects: Subjects;
  readonly members: EnsembleMembers;
  private readonly preparer: TxnPreparer;
  private zab!: ZabReplica<TxnResult>;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Sessions whose close this leader has proposed (not yet applied). */
  private readonly closing = new Set<number>();
  private leadingNow = false;
  private epochNow = 0;

  private constructor(private readonly options: TreeReplicaOptions) {
    this.subjects = new Subjects(options.prefix);
    this.members = new EnsembleMembers(options.peers, options.nodeId);
    this.tree = new ZnodeTree({
      hierarchy: options.hierarchy,
      sessionScope: options.sessionScope,
      ...(options.maxDataBytes === undefined ? {} : { maxDataBytes: options.maxDataBytes }),
    });
    this.preparer = new TxnPreparer(this.tree);
  }

  static async start(options: TreeReplicaOptions): Promise<TreeReplica> {
    const replica = new TreeReplica(options);
    await replica.run();
    return replica;
  }

  private async run(): Promise<void> {
    const options = this.options;
    const machine = new TreeStateMachine(this.tree, {
      onApplied: (zxid) => this.preparer.committed(zxid),
      ...(options.onWatchEvents === undefined ? {} : { onWatchEvents: options.onWatchEvents }),
    });
    const self = this.members.selfNumber;
    this.zab = await ZabReplica.start<TxnResult>({
      id: self,
      members: this.members.numbers,
      dataDir: options.dataDir,
      stateMachine: {
        apply: (record) => {
          const result = machine.apply(record);
          options.onApplied?.(record.zxid, result);
          return result;
        },
        snapshotChunks: () => machine.snapshotChunks(),
        restoreChunks: (chunks) => machine.restoreChunks(chunks),
      },
      link: new BusPeerLink(options.transport, self, (id) => this.subjects.peer(options.ensemble, this.members.nameOf(id))),
      logger: options.logger,
      ...(options.timing === undefined ? {} : { timing: options.timing }),
      ...(options.snapshotEveryTxns === undefined ? {} : { snapshotEveryTxns: options.snapshotEveryTxns }),
      ...(options.snapshotRetain === undefined ? {} : { snapshotRetain: options.snapshotRetain }),
      onRoleChange: (change) => this.onRoleChange(change),
      ...(options.onFatal === undefined ? {} : { onFatal: options.onFatal }),
    });
    this.timers.push(
      setInterval(() => this.expireSessions(), options.sessionCheck_ms ?? 100),
      setInterval(() => this.reapNodes(), options.reap_ms ?? 1000),
    );
  }

  get leading(): boolean {
    return this.leadingNow;
  }

  get epoch(): number {
    return this.epochNow;
  }

  /** Prepares `request` on the leader at the zxid its proposal gets, proposes, resolves once applied. */
  write(request: Request, sessionId: number): Promise<{ zxid: number; result: TxnResult }> {
    return this.zab.proposeWith((zxid) => {
      const now_ms = Date.now();
      const txn = this.preparer.prepare(request, { zxid, sessionId, now_ms });
      return encodeTxnPayload(txn, now_ms);
    });
  }

  /** Like write, for a request built from the zxid it will get (e.g. a session id). */
  writeAt(build: (zxid: number) => Request, sessionId: (zxid: number) => number): Promise<{ zxid: number; result: TxnResult }> {
    return this.zab.proposeWith((zxid) => {
      const now_ms = Date.now();
      const txn = this.preparer.prepare(build(zxid), { zxid, sessionId: sessionId(zxid), now_ms });
      return encodeTxnPayload(txn, now_ms);
    });
  }

  readBarrier(): Promise<void> {
    return this.zab.readBarrier();
  }

  waitApplied(zxid: number): Promise<void> {
    return this.zab.waitApplied(zxid);
  }

  status(): TreeReplicaStatus {
    const status = this.zab.status();
    return {
      id: this.options.nodeId,
      ensemble: this.options.ensemble,
      role: status.role,
      ...(status.leader === undefined ? {} : { leader: this.members.nameOf(status.leader) }),
      established: status.established,
      epoch: this.epochNow,
      zxid: this.tree.lastZxid,
      nodeCount: this.tree.nodeCount,
      sessions: this.tree.sessionCount,
      watches: this.tree.watchCount,
      snapshotsInstalled: this.zab.stats.snapshotsInstalled,
      snapshotsTaken: this.zab.stats.snapshotsTaken,
    };
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.zab.stop();
  }

  private onRoleChange(change: RoleChange): void {
    const established = change.role === 'leading' && change.epoch !== undefined;
    if (change.epoch !== undefined) this.epochNow = change.epoch;
    if (established && !this.leadingNow) {
      this.leadingNow = true;
      this.preparer.reset();
      this.closing.clear();
      // Heartbeats sent to the previous leader were never replicated: every session starts afresh.
      this.tree.restartSessionLiveness(Date.now());
      this.options.onLeadership?.(true, this.epochNow);
    } else if (!established && this.leadingNow) {
      this.leadingNow = false;
      this.preparer.reset();
      this.closing.clear();
      this.options.onLeadership?.(false, this.epochNow);
    }
  }

  private expireSessions(): void {
    if (!this.leadingNow) return;
    for (const sessionId of this.tree.expiredSessions(Date.now())) this.closeSession(sessionId, 'expired');
  }

  /** Proposes the close of a session (once at a time); its ephemerals here go with it. */
  closeSession(sessionId: number, reason: string): void {
    if (this.closing.has(sessionId)) return;
    this.closing.add(sessionId);
    this.options.logger.info({ sessionId, reason }, 'closing session');
    this.write({ op: 'closeSession', sessionId }, sessionId).then(
      () => this.closing.delete(sessionId),
      (err: unknown) => {
        this.closing.delete(sessionId);
        this.options.logger.debug({ err, sessionId }, 'closing a session failed; will retry');
      },
    );
  }

  private reapNodes(): void {
    if (!this.leadingNow) return;
    const paths = [...this.tree.containersToDelete(), ...this.tree.expiredTtlNodes(Date.now())];
    for (const path of paths) {
      this.write({ op: 'reap', path }, 0).catch((err: unknown) => {
        this.options.logger.debug({ err, path }, 'reaping a node failed');
      });
    }
  }
}
