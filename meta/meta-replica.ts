/**
 * One replica of the meta ensemble: a TreeReplica (ZAB + the whole znode tree, ZooKeeper's
 * strict hierarchy, sessions local) and the meta protocol on top. While it leads, it serves the
 * leader subject (writes, sessions, watches, linearizable reads) and creates the cluster records
 * if missing; every replica serves sequential and stale reads on the read queue, and its status.
 */
import { ShardkvError } from '../errors/codes.js';
import type { Logger } from '../logging/logger.js';
import { LeaderSubject } from '../net/leader-subject.js';
import { Subjects } from '../net/subjects.js';
import type { Subscription, Transport } from '../net/transport.js';
import type {
  AckReply, MetaRequest, ReadReply, ReadRequest, ReplicaStatus, ReplyHeader, SessionReply, SetWatchesRequest,
  WatchNotification, WriteReply,
} from '../protocol/meta.js';
import { readTree } from '../replica/tree-read.js';
import { replicaTuning, TreeReplica } from '../replica/tree-replica.js';
import type { ZabTiming } from '../zab/driver/zab-replica.js';
import type { WatchEvent } from '../znode/types.js';
import { initialRecords } from './cluster-records.js';

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
  /** Session timeouts are clamped into this range, as ZooKeeper negotiates them. */
  minSessionTimeout_ms?: number;
  maxSessionTimeout_ms?: number;
  onFatal?: (err: unknown) => void;
}

const ENSEMBLE = 'meta';
const READ_QUEUE = 'meta-read';

export class MetaReplica {
  private replica!: TreeReplica;
  private leaderSubject!: LeaderSubject;
  private readonly subscriptions: Subscription[] = [];
  /** Watchers with watches on this replica: dropped when it stops leading (clients re-register). */
  private readonly knownWatchers = new Set<string>();

  private constructor(private readonly options: MetaReplicaOptions) {}

  static async start(options: MetaReplicaOptions): Promise<MetaReplica> {
    const meta = new MetaReplica(options);
    await meta.run();
    return meta;
  }

  private async run(): Promise<void> {
    const { transport } = this.options;
    const subjects = new Subjects(this.options.prefix);
    this.leaderSubject = new LeaderSubject(transport, subjects.metaLeader(), (request) => this.serveLeader(request));
    this.replica = await TreeReplica.start({
      ensemble: ENSEMBLE,
      nodeId: this.options.nodeId,
      peers: this.options.peers,
      transport,
      prefix: this.options.prefix,
      dataDir: this.options.dataDir,
      logger: this.options.logger,
      hierarchy: 'strict',
      sessionScope: 'local',
      ...replicaTuning(this.options),
      onLeadership: (leading) => this.onLeadership(leading),
      onWatchEvents: (events) => this.publishEvents(events),
    });
    this.subscriptions.push(
      transport.serve(subjects.metaRead(), (request) => this.serveRead(request), { queue: READ_QUEUE }),
      transport.serve(subjects.replicaStatus(ENSEMBLE, this.options.nodeId), () => this.status()),
    );
    // Leadership may have come before the subjects were set up (a single-member ensemble).
    if (this.replica.leading) this.onLeadership(true);
  }

  status(): ReplicaStatus {
    const status = this.replica.status();
    return {
      id: status.id,
      role: status.role,
      ...(status.leader === undefined ? {} : { leader: status.leader }),
      established: status.established,
      epoch: status.epoch,
      zxid: status.zxid,
      appliedZxid: status.zxid,
      nodeCount: status.nodeCount,
      sessions: status.sessions,
      watches: status.watches,
      snapshotsInstalled: status.snapshotsInstalled,
      snapshotsTaken: status.snapshotsTaken,
    };
  }

  async stop(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.leaderSubject.setLeader(false);
    await this.replica.stop();
  }

  private get tree() {
    return this.replica.tree;
  }

  private onLeadership(leading: boolean): void {
    if (this.replica === undefined) return;
    if (leading) {
      // Take client requests only once the cluster records exist: a router or shard replica
      // that starts with the ensemble must not read /ring before it is created (NO_NODE).
      void this.ensureClusterRecords().finally(() => {
        if (this.replica.leading) void this.leaderSubject.setLeader(true);
      });
    } else {
      void this.leaderSubject.setLeader(false);
      // Watches live where they were registered; clients re-register them on the new leader.
      for (const watcher of this.knownWatchers) this.tree.removeWatcher(watcher);
      this.knownWatchers.clear();
    }
  }

  private async ensureClusterRecords(): Promise<void> {
    for (const record of initialRecords()) {
      if (this.tree.nodeAt(record.path) !== undefined) continue;
      try {
        await this.replica.write({ op: 'create', path: record.path, data: new TextEncoder().encode(record.data), mode: 'persistent' }, 0);
      } catch (err) {
        if (err instanceof ShardkvError && err.code === 'NODE_EXISTS') continue;
        this.options.logger.warn({ err, path: record.path }, 'could not create a cluster record; the next leader will');
        return;
      }
    }
  }

  private header(): ReplyHeader {
    return { epoch: this.replica.epoch, zxid: this.tree.lastZxid };
  }

  private async serveLeader(raw: unknown): Promise<unknown> {
    const request = asRequest(raw);
    if (!this.replica.leading) throw new ShardkvError('NOT_LEADER', 'this meta replica is not the leader');
    switch (request.op) {
      case 'write': {
        const sessionId = numberOr0(request.sessionId);
        if (sessionId !== 0 && !this.tree.hasSession(sessionId)) throw sessionExpired(sessionId);
        const { zxid, result } = await this.replica.write(request.request, sessionId);
        return { epoch: this.replica.epoch, zxid, result } satisfies WriteReply;
      }
      case 'createSession':
        return this.createSession(request.timeout_ms);
      case 'closeSession': {
        const sessionId = positiveId(request.sessionId);
        if (!this.tree.hasSession(sessionId)) throw sessionExpired(sessionId);
        const { zxid } = await this.replica.write({ op: 'closeSession', sessionId }, sessionId);
        return { epoch: this.replica.epoch, zxid } satisfies AckReply;
      }
      case 'ping': {
        const sessionId = numberOr0(request.sessionId);
        if (sessionId !== 0 && !this.tree.touchSession(sessionId, Date.now())) throw sessionExpired(sessionId);
        return this.header();
      }
      case 'read':
        await this.replica.readBarrier();
        return this.read(request);
      case 'addWatch': {
        const watcher = watcherId(request.watcher);
        this.knownWatchers.add(watcher);
        this.tree.addWatch(request.path, watcher, request.mode === 'persistent_recursive' ? 'persistent_recursive' : 'persistent');
        return this.header();
      }
      case 'setWatches':
        return this.setWatches(request);
      case 'removeWatcher': {
        const watcher = watcherId(request.watcher);
        this.tree.removeWatcher(watcher);
        this.knownWatchers.delete(watcher);
        return this.header();
      }
      case 'status':
        return this.status();
      default:
        throw new ShardkvError('BAD_ARGUMENTS', `unknown meta op ${JSON.stringify((request as { op: unknown }).op)}`);
    }
  }

  /** Sequential and stale reads, on any replica. */
  private async serveRead(raw: unknown): Promise<unknown> {
    const request = asRequest(raw);
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
    return { ...this.header(), ...readTree(this.tree, request.read, request.path, watcher) };
  }

  private async createSession(requested_ms: unknown): Promise<SessionReply> {
    if (typeof requested_ms !== 'number' || !Number.isFinite(requested_ms) || requested_ms <= 0) {
      throw new ShardkvError('BAD_ARGUMENTS', `session timeout must be a positive number of milliseconds, got ${String(requested_ms)}`);
    }
    const min = this.options.minSessionTimeout_ms ?? 1_000;
    const max = this.options.maxSessionTimeout_ms ?? 120_000;
    const timeout_ms = Math.round(Math.min(max, Math.max(min, requested_ms)));
    // The zxid of the createSession is unique in the ensemble's history: a fine session id.
    const { zxid } = await this.replica.writeAt((sessionId) => ({ op: 'createSession', sessionId, timeout_ms }), (sessionId) => sessionId);
    this.tree.touchSession(zxid, Date.now());
    return { epoch: this.replica.epoch, zxid, sessionId: zxid, timeout_ms };
  }

  /** ZooKeeper's setWatches: a reconnecting client's watches, fired at once where they missed a change. */
  private setWatches(request: SetWatchesRequest): AckReply {
    const watcher = watcherId(request.watcher);
    this.knownWatchers.add(watcher);
    const since = Number(request.relativeZxid) || 0;
    const tree = this.tree;
    const missed: WatchNotification[] = [];
    for (const path of request.data ?? []) {
      const node = tree.nodeAt(path);
      if (node === undefined) missed.push({ type: 'NodeDeleted', path, zxid: tree.lastZxid });
      else if (node.mzxid > since) missed.push({ type: 'NodeDataChanged', path, zxid: node.mzxid });
      else tree.getData(path, watcher);
    }
    for (const path of request.exist ?? []) {
      const node = tree.nodeAt(path);
      if (node !== undefined && node.czxid > since) missed.push({ type: 'NodeCreated', path, zxid: node.czxid });
      else if (node !== undefined && node.mzxid > since) missed.push({ type: 'NodeDataChanged', path, zxid: node.mzxid });
      else tree.exists(path, watcher);
    }
    for (const path of request.child ?? []) {
      if (tree.nodeAt(path) === undefined) {
        missed.push({ type: 'NodeDeleted', path, zxid: tree.lastZxid });
        continue;
      }
      const pzxid = tree.getChildren(path).directory.pzxid;
      if (pzxid > since) missed.push({ type: 'NodeChildrenChanged', path, zxid: pzxid });
      else tree.getChildren(path, watcher);
    }
    for (const path of request.persistent ?? []) tree.addWatch(path, watcher, 'persistent');
    for (const path of request.persistentRecursive ?? []) tree.addWatch(path, watcher, 'persistent_recursive');
    const subject = this.replica.subjects.events(watcher);
    for (const event of missed) this.options.transport.publish(subject, event);
    return this.header();
  }

  private publishEvents(events: WatchEvent[]): void {
    for (const event of events) {
      const notification: WatchNotification = { type: event.type, path: event.path, zxid: event.zxid };
      for (const watcher of event.watchers) {
        if (typeof watcher !== 'string') continue;
        this.options.transport.publish(this.replica.subjects.events(watcher), notification);
      }
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
