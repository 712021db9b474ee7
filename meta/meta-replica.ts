/**
 * One replica of the meta ensemble: the ZAB driver + the whole znode tree (ZooKeeper's strict
 * hierarchy) + the transport. While it leads, it serves the leader subject (writes, sessions,
 * watches, linearizable reads), expires sessions and reaps containers and TTL nodes; every
 * replica serves sequential and stale reads on the read queue and its status subject.
 */
import { ShardkvError } from '../errors/codes.js';
import type { Logger } from '../logging/logger.js';
import { LeaderSubject } from '../net/leader-subject.js';
import { Subjects } from '../net/subjects.js';
import type { Subscription, Transport } from '../net/transport.js';
import { encodeTxnPayload, TreeStateMachine } from '../replica/tree-state-machine.js';
import { BusPeerLink } from '../zab/driver/bus-peer-link.js';
import { ZabReplica, type ZabTiming } from '../zab/driver/zab-replica.js';
import type { RoleChange } from '../zab/ready.js';
import { TxnPreparer } from '../znode/txn-preparer.js';
import type { Request, TxnResult, WatchEvent } from '../znode/types.js';
import { ZnodeTree } from '../znode/znode-tree.js';
import { initialRecords } from './cluster-records.js';
import { EnsembleMembers } from './ensemble-members.js';
import type {
  AckReply, MetaRequest, ReadReply, ReadRequest, ReplicaStatus, ReplyHeader, SessionReply, SetWatchesRequest,
  WatchNotification, WriteReply,
} from './protocol.js';

export interface MetaReplicaOptions {
  nodeId: string;
  /** Every member's node id, this one included (1, 3 or 5). */
  peers: string[];
  transport: Transport;
  prefix: string;
  dataDir: string;
  logger: Logger;
  timing?: ZabTiming;
  snapshotEveryTxns?: number;
  snapshotRetain?: number;
  maxDataBytes?: number;
  /** How often the leader looks for expired sessions. Default 100 ms. */
  sessionCheck_ms?: number;
  /** How often the leader reaps empty containers and expired TTL nodes. Default 1000 ms. */
  reap_ms?: number;
  /** Session timeouts are clamped into this range, as ZooKeeper negotiates them. */
  minSessionTimeout_ms?: number;
  maxSessionTimeout_ms?: number;
  onFatal?: (err: unknown) => void;
}

const ENSEMBLE = 'meta';
const READ_QUEUE = 'meta-read';

export class MetaReplica {
  readonly tree: ZnodeTree;
  private readonly preparer: TxnPreparer;
  private readonly subjects: Subjects;
  private readonly members: EnsembleMembers;
  private replica!: ZabReplica<TxnResult>;
  private leaderSubject!: LeaderSubject;
  private readonly subscriptions: Subscription[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** Sessions whose close this leader has proposed (not yet applied). */
  private readonly closing = new Set<number>();
  private leading = false;
  private epoch = 0;

  private constructor(private readonly options: MetaReplicaOptions) {
    this.subjects = new Subjects(options.prefix);
    this.members = new EnsembleMembers(options.peers, options.nodeId);
    this.tree = new ZnodeTree({
      hierarchy: 'strict',
      ...(options.maxDataBytes === undefined ? {} : { maxDataBytes: options.maxDataBytes }),
    });
    this.preparer = new TxnPreparer(this.tree);
  }

  static async start(options: MetaReplicaOptions): Promise<MetaReplica> {
    const meta = new MetaReplica(options);
    await meta.run();
    return meta;
  }

  private async run(): Promise<void> {
    const { transport, logger } = this.options;
    const machine = new TreeStateMachine(this.tree, {
      onApplied: (zxid) => this.preparer.committed(zxid),
      onWatchEvents: (events) => this.publishEvents(events),
    });
    this.leaderSubject = new LeaderSubject(transport, this.subjects.metaLeader(), (request) => this.serveLeader(request));
    this.replica = await ZabReplica.start({
      id: this.members.selfNumber,
      members: this.members.numbers,
      dataDir: this.options.dataDir,
      stateMachine: machine,
      link: new BusPeerLink(transport, this.members.selfNumber, (id) => this.subjects.peer(ENSEMBLE, this.members.nameOf(id))),
      logger,
      ...(this.options.timing === undefined ? {} : { timing: this.options.timing }),
      ...(this.options.snapshotEveryTxns === undefined ? {} : { snapshotEveryTxns: this.options.snapshotEveryTxns }),
      ...(this.options.snapshotRetain === undefined ? {} : { snapshotRetain: this.options.snapshotRetain }),
      onRoleChange: (change) => this.onRoleChange(change),
      ...(this.options.onFatal === undefined ? {} : { onFatal: this.options.onFatal }),
    });
    this.subscriptions.push(
      transport.serve(this.subjects.metaRead(), (request) => this.serveRead(request), { queue: READ_QUEUE }),
      transport.serve(this.subjects.replicaStatus(ENSEMBLE, this.options.nodeId), () => this.status()),
    );
    this.timers.push(
      setInterval(() => this.expireSessions(), this.options.sessionCheck_ms ?? 100),
      setInterval(() => this.reapNodes(), this.options.reap_ms ?? 1000),
    );
  }

  status(): ReplicaStatus {
    const status = this.replica.status();
    return {
      id: this.options.nodeId,
      role: status.role,
      ...(status.leader === undefined ? {} : { leader: this.members.nameOf(status.leader) }),
      established: status.established,
      epoch: status.epoch,
      zxid: this.tree.lastZxid,
      appliedZxid: this.tree.lastZxid,
      nodeCount: this.tree.nodeCount,
      sessions: [...this.tree.dump().sessions].length,
      watches: this.tree.watchCount,
      snapshotsInstalled: this.replica.stats.snapshotsInstalled,
      snapshotsTaken: this.replica.stats.snapshotsTaken,
    };
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.leaderSubject.setLeader(false);
    await this.replica.stop();
  }

  // ---------------------------------------------------------------------------------------------
  // Leadership

  private onRoleChange(change: RoleChange): void {
    const established = change.role === 'leading' && change.epoch !== undefined;
    if (change.epoch !== undefined) this.epoch = change.epoch;
    if (established && !this.leading) {
      this.leading = true;
      this.preparer.reset();
      this.closing.clear();
      // Heartbeats sent to the previous leader were never replicated: every session starts afresh.
      this.tree.restartSessionLiveness(Date.now());
      void this.leaderSubject.setLeader(true);
      void this.ensureClusterRecords();
    } else if (!established && this.leading) {
      this.leading = false;
      this.preparer.reset();
      this.closing.clear();
      void this.leaderSubject.setLeader(false);
      // Watches live where they were registered; clients re-register them on the new leader.
      for (const watcher of this.knownWatchers) this.tree.removeWatcher(watcher);
      this.knownWatchers.clear();
    }
  }

  private readonly knownWatchers = new Set<string>();

  private async ensureClusterRecords(): Promise<void> {
    for (const record of initialRecords()) {
      if (this.tree.nodeAt(record.path) !== undefined) continue;
      try {
        await this.write({ op: 'create', path: record.path, data: new TextEncoder().encode(record.data), mode: 'persistent' }, 0);
      } catch (err) {
        if (err instanceof ShardkvError && err.code === 'NODE_EXISTS') continue;
        this.options.logger.warn({ err, path: record.path }, 'could not create a cluster record; the next leader will');
        return;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  private header(): ReplyHeader {
    return { epoch: this.epoch, zxid: this.tree.lastZxid };
  }

  private async serveLeader(raw: unknown): Promise<unknown> {
    const request = asRequest(raw);
    if (!this.leading) throw new ShardkvError('NOT_LEADER', 'this meta replica is not the leader');
    switch (request.op) {
      case 'write': {
        const { zxid, result } = await this.write(request.request, numberOr0(request.sessionId));
        const reply: WriteReply = { epoch: this.epoch, zxid, result };
        return reply;
      }
      case 'createSession':
        return this.createSession(request.timeout_ms);
      case 'closeSession': {
        const sessionId = positiveId(request.sessionId);
        if (!this.tree.hasSession(sessionId)) throw sessionExpired(sessionId);
        const { zxid } = await this.write({ op: 'closeSession', sessionId }, sessionId);
        return { epoch: this.epoch, zxid } satisfies AckReply;
      }
      case 'ping': {
        const sessionId = numberOr0(request.sessionId);
        if (sessionId !== 0 && !this.tree.touchSession(sessionId, Date.now())) throw sessionExpired(sessionId);
        return this.header();
      }
      case 'read':
        await this.replica.readBarrier();
        return this.read(request);
      case 'addWatch':
        this.knownWatchers.add(watcherId(request.watcher));
        this.tree.addWatch(request.path, request.watcher, request.mode === 'persistent_recursive' ? 'persistent_recursive' : 'persistent');
        return this.header();
      case 'setWatches':
        return this.setWatches(request);
      case 'removeWatcher':
        this.tree.removeWatcher(watcherId(request.watcher));
        this.knownWatchers.delete(request.watcher);
        return this.header();
      case 'status':
        return this.status();
    }
  }

  /** Sequential and stale reads, on any replica. */
  private async serveRead(raw: unknown): Promise<unknown> {
    const request = asRequest(raw);
    if (request.op === 'status') return this.status();
    if (request.op !== 'read' || request.consistency === 'linearizable' || request.watcher !== undefined) {
      throw new ShardkvError('BAD_ARGUMENTS', 'the read queue serves only sequential and stale reads without watches');
    }
    if (request.consistency === 'sequential' && typeof request.minZxid === 'number' && request.minZxid > this.tree.lastZxid) {
      await withDeadline(this.replica.waitApplied(request.minZxid), 5_000, 'this replica has not caught up to the zxid the client saw');
    }
    return this.read(request);
  }

  private read(request: ReadRequest): ReadReply {
    const watcher = request.watcher === undefined ? undefined : watcherId(request.watcher);
    if (watcher !== undefined) this.knownWatchers.add(watcher);
    switch (request.read) {
      case 'getData': {
        const { data, stat } = this.tree.getData(request.path, watcher);
        return { ...this.header(), data, stat };
      }
      case 'exists':
        return { ...this.header(), stat: this.tree.exists(request.path, watcher) };
      case 'getChildren': {
        const { children, stat } = this.tree.getChildren(request.path, watcher);
        return { ...this.header(), children, stat };
      }
      default:
        throw new ShardkvError('BAD_ARGUMENTS', `unknown read ${JSON.stringify((request as { read: unknown }).read)}`);
    }
  }

  /** Prepares on the leader at the zxid the proposal will get, then proposes; resolves when applied. */
  private write(request: Request, sessionId: number): Promise<{ zxid: number; result: TxnResult }> {
    if (sessionId !== 0 && request.op !== 'closeSession' && !this.tree.hasSession(sessionId)) {
      return Promise.reject(sessionExpired(sessionId));
    }
    return this.replica.proposeWith((zxid) => {
      const now_ms = Date.now();
      const txn = this.preparer.prepare(request, { zxid, sessionId, now_ms });
      return encodeTxnPayload(txn, now_ms);
    });
  }

  private async createSession(requested_ms: unknown): Promise<SessionReply> {
    if (typeof requested_ms !== 'number' || !Number.isFinite(requested_ms) || requested_ms <= 0) {
      throw new ShardkvError('BAD_ARGUMENTS', `session timeout must be a positive number of milliseconds, got ${String(requested_ms)}`);
    }
    const min = this.options.minSessionTimeout_ms ?? 1_000;
    const max = this.options.maxSessionTimeout_ms ?? 120_000;
    const timeout_ms = Math.round(Math.min(max, Math.max(min, requested_ms)));
    let sessionId = 0;
    const { zxid } = await this.replica.proposeWith((proposalZxid) => {
      // The zxid of the createSession is unique in the ensemble's history: a fine session id.
      sessionId = proposalZxid;
      const now_ms = Date.now();
      const txn = this.preparer.prepare({ op: 'createSession', sessionId, timeout_ms }, { zxid: proposalZxid, sessionId, now_ms });
      return encodeTxnPayload(txn, now_ms);
    });
    this.tree.touchSession(sessionId, Date.now());
    return { epoch: this.epoch, zxid, sessionId, timeout_ms };
  }

  /** ZooKeeper's setWatches: a reconnecting client's watches, fired at once where they missed a change. */
  private setWatches(request: SetWatchesRequest): AckReply {
    const watcher = watcherId(request.watcher);
    this.knownWatchers.add(watcher);
    const since = Number(request.relativeZxid) || 0;
    const missed: WatchNotification[] = [];
    for (const path of request.data ?? []) {
      const node = this.tree.nodeAt(path);
      if (node === undefined) missed.push({ type: 'NodeDeleted', path, zxid: this.tree.lastZxid });
      else if (node.mzxid > since) missed.push({ type: 'NodeDataChanged', path, zxid: node.mzxid });
      else this.tree.getData(path, watcher);
    }
    for (const path of request.exist ?? []) {
      const node = this.tree.nodeAt(path);
      if (node !== undefined && node.czxid > since) missed.push({ type: 'NodeCreated', path, zxid: node.czxid });
      else if (node !== undefined && node.mzxid > since) missed.push({ type: 'NodeDataChanged', path, zxid: node.mzxid });
      else this.tree.exists(path, watcher);
    }
    for (const path of request.child ?? []) {
      const node = this.tree.nodeAt(path);
      if (node === undefined) missed.push({ type: 'NodeDeleted', path, zxid: this.tree.lastZxid });
      else if (this.tree.getChildren(path).directory.pzxid > since) {
        missed.push({ type: 'NodeChildrenChanged', path, zxid: this.tree.getChildren(path).directory.pzxid });
      } else this.tree.getChildren(path, watcher);
    }
    for (const path of request.persistent ?? []) this.tree.addWatch(path, watcher, 'persistent');
    for (const path of request.persistentRecursive ?? []) this.tree.addWatch(path, watcher, 'persistent_recursive');
    const subject = this.subjects.events(watcher);
    for (const event of missed) this.options.transport.publish(subject, event);
    return this.header();
  }

  private publishEvents(events: WatchEvent[]): void {
    for (const event of events) {
      const notification: WatchNotification = { type: event.type, path: event.path, zxid: event.zxid };
      for (const watcher of event.watchers) {
        if (typeof watcher !== 'string') continue;
        this.options.transport.publish(this.subjects.events(watcher), notification);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Leader housekeeping

  private expireSessions(): void {
    if (!this.leading) return;
    for (const sessionId of this.tree.expiredSessions(Date.now())) {
      if (this.closing.has(sessionId)) continue;
      this.closing.add(sessionId);
      this.options.logger.info({ sessionId }, 'session expired');
      this.write({ op: 'closeSession', sessionId }, sessionId).then(
        () => this.closing.delete(sessionId),
        (err: unknown) => {
          this.closing.delete(sessionId);
          this.options.logger.debug({ err, sessionId }, 'closing an expired session failed; will retry');
        },
      );
    }
  }

  private reapNodes(): void {
    if (!this.leading) return;
    const paths = [...this.tree.containersToDelete(), ...this.tree.expiredTtlNodes(Date.now())];
    for (const path of paths) {
      this.write({ op: 'reap', path }, 0).catch((err: unknown) => {
        this.options.logger.debug({ err, path }, 'reaping a node failed');
      });
    }
  }
}

function asRequest(raw: unknown): MetaRequest {
  if (typeof raw !== 'object' || raw === null || typeof (raw as { op?: unknown }).op !== 'string') {
    throw new ShardkvError('BAD_ARGUMENTS', 'a meta request is an object with an op');
  }
  return raw as MetaRequest;
}

function numberOr0(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
}

function positiveId(value: unknown): number {
  const id = numberOr0(value);
  if (id === 0) throw new ShardkvError('BAD_ARGUMENTS', `a session id is a positive integer, got ${String(value)}`);
  return id;
}

function watcherId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    throw new ShardkvError('BAD_ARGUMENTS', 'a watcher id is a non-empty string of at most 64 characters');
  }
  return value;
}

function sessionExpired(sessionId: number): ShardkvError {
  return new ShardkvError('SESSION_EXPIRED', `session ${sessionId} is unknown or has expired`, { sessionId });
}

async function withDeadline<T>(promise: Promise<T>, timeout_ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ShardkvError('TIMEOUT', what)), timeout_ms);
      }),
    ]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
