/**
 * One replica of a shard group: a TreeReplica over its slice of the namespace (implicit
 * parents; sessions placed by id over the groups) and the shard protocol on its group's
 * leader subject. Every request is checked against the ring: a key this group does not own
 * is answered MOVED with our ring version. The replica registers itself in the meta tree
 * (/groups/<group>/<node>, ephemeral) and watches /ring there.
 */
import { ShardkvError } from '../errors/codes.js';
import type { Logger } from '../logging/logger.js';
import type { MetaClient } from '../meta/meta-client.js';
import type { RingWatch } from '../meta/ring-watch.js';
import { LeaderSubject } from '../net/leader-subject.js';
import { Subjects } from '../net/subjects.js';
import type { Subscription, Transport } from '../net/transport.js';
import {
  ALL_SESSIONS, readPlacementKey, sessionPlacementKey, sessionWatcher, type SessionClosedNotice, type SessionEvent, type ShardReadReply,
  type ShardReplyHeader, type ShardRequest, type ShardSessionReply, type ShardWriteReply, type SessionsAliveReply,
} from '../protocol/shard.js';
import { readTree } from '../replica/tree-read.js';
import { replicaTuning, TreeReplica, type TreeReplicaStatus } from '../replica/tree-replica.js';
import { RingHasher } from '../ring/hasher.js';
import { placementKey } from '../ring/path.js';
import type { ZabTiming } from '../zab/driver/zab-replica.js';
import type { MultiOpRequest, TxnResult, WatchEvent } from '../znode/types.js';
import { GroupMembership } from './group-membership.js';
import { RangeOps } from './range-ops.js';
import { SessionLiveness } from './session-liveness.js';

export interface ShardReplicaOptions {
  group: string;
  nodeId: string;
  peers: string[];
  transport: Transport;
  prefix: string;
  dataDir: string;
  logger: Logger;
  meta: MetaClient;
  ring: RingWatch;
  timing?: ZabTiming;
  snapshotEveryTxns?: number;
  snapshotRetain?: number;
  maxDataBytes?: number;
  minSessionTimeout_ms?: number;
  maxSessionTimeout_ms?: number;
  /** How often the leader checks that the sessions owning ephemerals here are still open. Default 2 s. */
  reconcile_ms?: number;
  onFatal?: (err: unknown) => void;
}

export class ShardReplica {
  private replica!: TreeReplica;
  private leaderSubject!: LeaderSubject;
  private membership!: GroupMembership;
  private liveness!: SessionLiveness;
  private rangeOps!: RangeOps;
  private readonly subjects: Subjects;
  private readonly subscriptions: Subscription[] = [];
  private readonly knownWatchers = new Set<string>();
  private reconcileTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: ShardReplicaOptions) {
    this.subjects = new Subjects(options.prefix);
  }

  static async start(options: ShardReplicaOptions): Promise<ShardReplica> {
    const shard = new ShardReplica(options);
    await shard.run();
    return shard;
  }

  private async run(): Promise<void> {
    const { transport, group } = this.options;
    this.leaderSubject = new LeaderSubject(transport, this.subjects.groupLeader(group),
      (request) => this.serveLeader(request).catch((err: unknown) => (this.rangeOps === undefined ? Promise.reject(err) : this.rangeOps.holdMoved(err))));
    const hasher = await RingHasher.create();
    this.replica = await TreeReplica.start({
      ensemble: group,
      nodeId: this.options.nodeId,
      peers: this.options.peers,
      transport,
      prefix: this.options.prefix,
      dataDir: this.options.dataDir,
      logger: this.options.logger,
      hierarchy: 'implicit',
      sessionScope: 'external',
      ...replicaTuning(this.options),
      onLeadership: (leading) => this.onLeadership(leading),
      onWatchEvents: (events) => this.publishEvents(events),
      onApplied: (zxid, result) => this.onApplied(zxid, result),
    });
    const placement = { ofKey: (key: string) => hasher.hash(key), ofSession: (id: number) => hasher.hash(sessionPlacementKey(id)) };
    this.replica.tree.usePlacementHash(placement);
    this.replica.tree.useRingVersion(() => this.options.ring.ring.version);
    this.rangeOps = new RangeOps({
      group, replica: this.replica, ring: this.options.ring, placement, logger: this.options.logger,
      onDropped: (zxid) => this.options.transport.publish(this.subjects.events(ALL_SESSIONS), { type: 'WatchesLost', path: '/', zxid, group } satisfies SessionEvent),
    });
    this.liveness = new SessionLiveness({
      group,
      transport,
      subjects: this.subjects,
      ring: this.options.ring,
      isOpenHere: (sessionId) => this.replica.tree.hasSession(sessionId),
      fencedUntil: (sessionId) => this.replica.tree.fenceCovering(placement.ofSession(sessionId))?.toRingVersion,
    });
    this.subscriptions.push(
      transport.serve(this.subjects.replicaStatus(group, this.options.nodeId), () => this.status()),
      transport.subscribe(this.subjects.sessionsClosed(), ({ data }) => this.onSessionClosedElsewhere(data as SessionClosedNotice)),
    );
    this.reconcileTimer = setInterval(() => void this.reconcileEphemerals(), this.options.reconcile_ms ?? 2_000);
    this.membership = await GroupMembership.join({
      meta: this.options.meta,
      group,
      nodeId: this.options.nodeId,
      logger: this.options.logger,
    });
    if (this.replica.leading) this.onLeadership(true);
  }

  status(): TreeReplicaStatus & { group: string; ringVersion: number } {
    return { ...this.replica.status(), group: this.options.group, ringVersion: this.options.ring.ring.version };
  }

  async stop(): Promise<void> {
    if (this.reconcileTimer !== undefined) clearInterval(this.reconcileTimer);
    this.rangeOps?.stop();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await this.leaderSubject.setLeader(false);
    await this.membership?.leave();
    await this.replica.stop();
  }

  private get tree() {
    return this.replica.tree;
  }

  // ---------------------------------------------------------------------------------------------
  // Leadership, events, sessions closed elsewhere

  private onLeadership(leading: boolean): void {
    if (this.replica === undefined) return;
    this.rangeOps?.clear();
    void this.leaderSubject.setLeader(leading);
    for (const watcher of this.knownWatchers) this.tree.removeWatcher(watcher);
    this.knownWatchers.clear();
    if (leading) {
      const notice: SessionEvent = { type: 'WatchesLost', path: '/', zxid: this.tree.lastZxid, group: this.options.group };
      this.options.transport.publish(this.subjects.events(ALL_SESSIONS), notice);
    }
  }

  private publishEvents(events: WatchEvent[]): void {
    for (const event of events) {
      const notice: SessionEvent = { type: event.type, path: event.path, zxid: event.zxid };
      for (const watcher of event.watchers) {
        if (typeof watcher === 'string') this.options.transport.publish(this.subjects.events(watcher), notice);
      }
    }
  }

  private onApplied(zxid: number, result: TxnResult): void {
    this.rangeOps?.exports.onApplied(zxid, result);
    if (result.type !== 'closeSession' || this.replica === undefined || !this.replica.leading) return;
    void this.announceClosed(result.sessionId, zxid).catch((err: unknown) => {
      this.options.logger.warn({ err, sessionId: result.sessionId }, 'could not announce a closed session');
    });
  }

  /** The owner of a session tells every group when it closes, so they drop its ephemerals. */
  private async announceClosed(sessionId: number, zxid: number): Promise<void> {
    if (await this.liveness.ownerOf(sessionId) !== this.options.group) return;
    const notice: SessionClosedNotice = { sessionId };
    this.options.transport.publish(this.subjects.sessionsClosed(), notice);
    const closed: SessionEvent = { type: 'SessionClosed', path: '/', zxid };
    this.options.transport.publish(this.subjects.events(sessionWatcher(sessionId)), closed);
  }

  private onSessionClosedElsewhere(notice: SessionClosedNotice): void {
    if (!this.replica.leading || typeof notice?.sessionId !== 'number') return;
    const sessionId = notice.sessionId;
    if (this.tree.sessionEphemerals(sessionId).length === 0) return;
    void (async () => {
      // The owner decides: a notice about a session we hold open and own is not the owner's
      // (a sender whose ring lagged).
      if (this.tree.hasSession(sessionId) && await this.liveness.ownerOf(sessionId) === this.options.group) return;
      this.replica.closeSession(sessionId, 'closed by its owning group');
    })().catch((err: unknown) => this.options.logger.debug({ err, sessionId }, 'session close notice not acted on'));
  }

  /** Against lost notices: ask the owners whether the sessions of our ephemerals are still open. */
  private async reconcileEphemerals(): Promise<void> {
    if (!this.replica.leading) return;
    const owners = this.tree.ephemeralOwners().filter((sessionId) => !this.tree.hasSession(sessionId));
    if (owners.length === 0) return;
    try {
      for (const sessionId of await this.liveness.closedAmong(owners)) {
        this.replica.closeSession(sessionId, 'owning group reports it closed');
      }
    } catch (err) {
      this.options.logger.debug({ err }, 'ephemeral reconciliation could not reach a session owner');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  private header(zxid = this.tree.lastZxid): ShardReplyHeader {
    return { zxid, ringVersion: this.options.ring.ring.version };
  }

  private async serveLeader(raw: unknown): Promise<unknown> {
    const request = asShardRequest(raw);
    if (!this.replica.leading) throw new ShardkvError('NOT_LEADER', `this replica of ${this.options.group} is not the leader`);
    if (RangeOps.handles(request)) return this.rangeOps.serve(request);
    await this.checkOwnership(request);
    switch (request.op) {
      case 'create': {
        const sessionId = request.sessionId ?? 0;
        if (request.mode === 'ephemeral' || request.mode === 'ephemeral_sequential') await this.requireOpenSession(sessionId);
        const { op: _op, ringVersion: _rv, sessionId: _sid, ...create } = request;
        return this.written(await this.replica.write({ op: 'create', ...create }, sessionId));
      }
      case 'setData':
        return this.written(await this.replica.write({ op: 'setData', path: request.path, data: request.data, version: request.version }, 0));
      case 'delete':
        return this.written(await this.replica.write({ op: 'delete', path: request.path, version: request.version }, 0));
      case 'multi': {
        const sessionId = request.sessionId ?? 0;
        if (request.ops.some((op) => op.op === 'create' && (op.mode === 'ephemeral' || op.mode === 'ephemeral_sequential'))) {
          await this.requireOpenSession(sessionId);
        }
        return this.written(await this.replica.write({ op: 'multi', ops: request.ops }, sessionId));
      }
      case 'read':
        return this.read(request);
      case 'createSession':
        return this.createSession(request.sessionId, request.timeout_ms);
      case 'keepalive':
        if (!this.tree.touchSession(request.sessionId, Date.now())) {
          await this.confirmLeading();
          if (!this.tree.touchSession(request.sessionId, Date.now())) throw sessionExpired(request.sessionId);
        }
        return this.header();
      case 'closeSession': {
        if (!this.tree.hasSession(request.sessionId)) {
          await this.confirmLeading();
          if (!this.tree.hasSession(request.sessionId)) throw sessionExpired(request.sessionId);
        }
        const { zxid } = await this.replica.write({ op: 'closeSession', sessionId: request.sessionId }, request.sessionId);
        return this.header(zxid);
      }
      case 'sessionsAlive': {
        if (!request.sessionIds.every((id) => this.tree.hasSession(id))) await this.confirmLeading();
        const reply: SessionsAliveReply = { ...this.header(), alive: request.sessionIds.filter((id) => this.tree.hasSession(id)) };
        return reply;
      }
      default:
        throw new ShardkvError('BAD_ARGUMENTS', `unknown shard op ${JSON.stringify((request as { op: unknown }).op)}`);
    }
  }

  private written({ zxid, result }: { zxid: number; result: TxnResult }): ShardWriteReply {
    return { ...this.header(zxid), result };
  }

  private async read(request: Extract<ShardRequest, { op: 'read' }>): Promise<ShardReadReply> {
    if (request.consistency === 'linearizable') await this.replica.readBarrier();
    let watcher: string | undefined;
    if (request.watchSession !== undefined) {
      await this.requireOpenSession(request.watchSession);
      watcher = sessionWatcher(request.watchSession);
      this.knownWatchers.add(watcher);
    }
    return { ...this.header(), ...readTree(this.tree, request.read, request.path, watcher) };
  }

  private async createSession(sessionId: number, requested_ms: number): Promise<ShardSessionReply> {
    if (typeof requested_ms !== 'number' || !Number.isFinite(requested_ms) || requested_ms <= 0) {
      throw new ShardkvError('BAD_ARGUMENTS', `session timeout must be a positive number of milliseconds, got ${String(requested_ms)}`);
    }
    const min = this.options.minSessionTimeout_ms ?? 1_000;
    const max = this.options.maxSessionTimeout_ms ?? 120_000;
    const timeout_ms = Math.round(Math.min(max, Math.max(min, requested_ms)));
    const { zxid } = await this.replica.write({ op: 'createSession', sessionId, timeout_ms }, sessionId);
    this.tree.touchSession(sessionId, Date.now());
    return { ...this.header(zxid), sessionId, timeout_ms };
  }

  private async requireOpenSession(sessionId: number): Promise<void> {
    if (!Number.isSafeInteger(sessionId) || sessionId <= 0) {
      throw new ShardkvError('BAD_ARGUMENTS', 'an ephemeral node or a watch needs a session');
    }
    if (await this.liveness.isOpen(sessionId)) return;
    await this.confirmLeading();
    if (!(await this.liveness.isOpen(sessionId))) throw sessionExpired(sessionId);
  }

  /**
   * Before answering that a session is gone: a leader voted out without knowing it yet has an
   * old tree, without sessions its successor created. The read barrier confirms the quorum
   * (NOT_LEADER otherwise: the client retries at the real leader) and applies what it committed.
   */
  private async confirmLeading(): Promise<void> {
    await this.replica.readBarrier();
  }

  /** MOVED unless this group owns every placement key of the request at our ring version. */
  private async checkOwnership(request: ShardRequest): Promise<void> {
    const ring = await this.options.ring.atLeast(typeof request.ringVersion === 'number' ? request.ringVersion : 0);
    if (ring.groupCount === 0) throw new ShardkvError('UNAVAILABLE', 'the ring has no groups yet');
    const keys = keysOf(request);
    const owners = new Set(keys.map((key) => ring.ownerOf(key)));
    if (owners.size > 1) {
      throw new ShardkvError('CROSS_SHARD_MULTI', 'the multi spans directories owned by different groups', { groups: [...owners] });
    }
    const [owner] = owners;
    if (owner !== undefined && owner !== this.options.group) {
      throw new ShardkvError('MOVED', `group ${this.options.group} does not own this key at ring version ${ring.version}`, {
        ringVersion: ring.version,
        owner,
      });
    }
    this.rangeOps.checkNotFenced(keys);
  }
}

/** The placement keys a request touches. */
function keysOf(request: ShardRequest): string[] {
  switch (request.op) {
    case 'create':
    case 'setData':
    case 'delete':
      return [placementKey(request.path)];
    case 'read':
      return [readPlacementKey(request.read, request.path)];
    case 'multi':
      return (request.ops as MultiOpRequest[]).map((op) => placementKey(op.path));
    case 'createSession':
    case 'keepalive':
    case 'closeSession':
      return [sessionPlacementKey(request.sessionId)];
    case 'sessionsAlive':
      return request.sessionIds.map((id) => sessionPlacementKey(id));
    default:
      return [];
  }
}

function asShardRequest(raw: unknown): ShardRequest {
  if (typeof raw !== 'object' || raw === null || typeof (raw as { op?: unknown }).op !== 'string') {
    throw new ShardkvError('BAD_ARGUMENTS', 'a shard request is an object with an op');
  }
  const request = raw as ShardRequest;
  if (request.op === 'multi' && !Array.isArray(request.ops)) throw new ShardkvError('BAD_ARGUMENTS', 'multi needs an ops array');
  if (request.op === 'sessionsAlive' && !Array.isArray(request.sessionIds)) throw new ShardkvError('BAD_ARGUMENTS', 'sessionsAlive needs sessionIds');
  return request;
}

function sessionExpired(sessionId: number): ShardkvError {
  return new ShardkvError('SESSION_EXPIRED', `session ${sessionId} is unknown or has expired`, { sessionId });
}
