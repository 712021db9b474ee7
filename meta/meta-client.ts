/**
 * The meta ensemble's client, used by routers, shard replicas and the CLI. It finds the leader
 * through the leader subject (no leader table), retries what is safe to retry until its
 * deadline, keeps sessions alive, and delivers watch events from its own events subject. When
 * it sees a new leader epoch it re-registers its watches there (ZooKeeper's setWatches), so a
 * change it missed during the failover still fires once.
 */
import { randomBytes } from 'node:crypto';
import { ShardkvError } from '../errors/codes.js';
import type { Logger } from '../logging/logger.js';
import { Subjects } from '../net/subjects.js';
import type { Subscription, Transport } from '../net/transport.js';
import type { CreateMode, MultiOpRequest, PersistentWatchMode, Stat, TxnResult } from '../znode/types.js';
import type {
  Consistency, MetaRequest, ReadReply, ReplicaStatus, ReplyHeader, SessionReply, WatchNotification, WriteReply,
} from '../protocol/meta.js';

export interface MetaClientOptions {
  transport: Transport;
  prefix: string;
  logger: Logger;
  /** Deadline of one call, retries included. Default 10 s. */
  timeout_ms?: number;
  /** Deadline of one request attempt. Default 2 s. */
  attemptTimeout_ms?: number;
}

type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

/** Codes after which a request certainly did not take effect, so a retry is safe for writes too. */
const RETRY_ALWAYS = new Set(['NO_LEADER', 'NOT_LEADER', 'UNAVAILABLE']);

export class MetaClient {
  readonly clientId: string;
  private readonly subjects: Subjects;
  private readonly timeout_ms: number;
  private readonly attemptTimeout_ms: number;
  private readonly watches = new Map<string, { kind: WatchKind; path: string }>();
  private readonly listeners = new Set<(event: WatchNotification) => void>();
  private readonly sessions = new Map<number, NodeJS.Timeout>();
  private eventsSubscription: Subscription | undefined;
  /** While watches are registered, a ping now and then notices a new leader even when idle. */
  private readonly watchKeeper: NodeJS.Timeout;
  private leaderEpoch = 0;
  /** The newest zxid any reply showed: sequential reads and setWatches start from it. */
  lastZxid = 0;
  private closed = false;

  constructor(private readonly options: MetaClientOptions) {
    this.clientId = `c${randomBytes(8).toString('hex')}`;
    this.subjects = new Subjects(options.prefix);
    this.timeout_ms = options.timeout_ms ?? 10_000;
    this.attemptTimeout_ms = options.attemptTimeout_ms ?? 2_000;
    this.eventsSubscription = options.transport.subscribe(this.subjects.events(this.clientId), ({ data }) => {
      this.deliver(data as WatchNotification);
    });
    this.watchKeeper = setInterval(() => {
      if (this.watches.size > 0) this.ping().catch(() => undefined);
    }, 500);
    this.watchKeeper.unref();
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  async create(path: string, data: Uint8Array, mode: CreateMode = 'persistent', options: { sessionId?: number; ttl_ms?: number } = {}): Promise<{ path: string; stat: Stat }> {
    const request: MultiOpRequest = { op: 'create', path, data, mode, ...(options.ttl_ms === undefined ? {} : { ttl_ms: options.ttl_ms }) };
    const reply = await this.write(request, options.sessionId ?? 0);
    const result = reply.result;
    if (result.type !== 'create') throw new ShardkvError('INTERNAL', `create answered ${result.type}`);
    return { path: result.path, stat: result.stat };
  }

  async setData(path: string, data: Uint8Array, version = -1): Promise<Stat> {
    const result = (await this.write({ op: 'setData', path, data, version }, 0)).result;
    if (result.type !== 'setData') throw new ShardkvError('INTERNAL', `setData answered ${result.type}`);
    return result.stat;
  }

  async delete(path: string, version = -1): Promise<void> {
    await this.write({ op: 'delete', path, version }, 0);
  }

  async multi(ops: MultiOpRequest[], sessionId = 0): Promise<TxnResult> {
    return (await this.write({ op: 'multi', ops }, sessionId)).result;
  }

  private async write(request: MultiOpRequest | { op: 'multi'; ops: MultiOpRequest[] }, sessionId: number): Promise<WriteReply> {
    return this.call<WriteReply>({ op: 'write', request, sessionId }, 'leader', false);
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  async getData(path: string, options: { watch?: boolean; consistency?: Consistency } = {}): Promise<{ data: Uint8Array; stat: Stat }> {
    const reply = await this.read({ op: 'read', read: 'getData', path, consistency: options.consistency ?? 'linearizable' }, options.watch ? 'data' : undefined);
    return { data: reply.data ?? new Uint8Array(0), stat: reply.stat as Stat };
  }

  async exists(path: string, options: { watch?: boolean; consistency?: Consistency } = {}): Promise<Stat | null> {
    const reply = await this.read({ op: 'read', read: 'exists', path, consistency: options.consistency ?? 'linearizable' }, options.watch ? 'exist' : undefined);
    return reply.stat;
  }

  async getChildren(path: string, options: { watch?: boolean; consistency?: Consistency } = {}): Promise<{ children: string[]; stat: Stat | null }> {
    const reply = await this.read({ op: 'read', read: 'getChildren', path, consistency: options.consistency ?? 'linearizable' }, options.watch ? 'child' : undefined);
    return { children: reply.children ?? [], stat: reply.stat };
  }

  private async read(request: Extract<MetaRequest, { op: 'read' }>, watch: WatchKind | undefined): Promise<ReadReply> {
    if (watch !== undefined) {
      // A watched read is served by the leader, where the watch lives.
      const reply = await this.call<ReadReply>({ ...request, consistency: 'linearizable', watcher: this.clientId }, 'leader', true);
      this.watches.set(`${watch}:${request.path}`, { kind: watch, path: request.path });
      return reply;
    }
    if (request.consistency === 'linearizable') return this.call<ReadReply>(request, 'leader', true);
    const minZxid = request.consistency === 'sequential' ? this.lastZxid : 0;
    return this.call<ReadReply>({ ...request, minZxid }, 'read', true);
  }

  /** A persistent (or persistent-recursive) watch, ZooKeeper 3.6's addWatch. */
  async addWatch(path: string, mode: PersistentWatchMode): Promise<void> {
    await this.call<ReplyHeader>({ op: 'addWatch', path, watcher: this.clientId, mode }, 'leader', true);
    const kind: WatchKind = mode === 'persistent' ? 'persistent' : 'persistentRecursive';
    this.watches.set(`${kind}:${path}`, { kind, path });
  }

  /** Watch events for this client, in the order the leader applied the changes. */
  onWatchEvent(listener: (event: WatchNotification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------------------------------------
  // Sessions

  /** Opens a session and keeps it alive (a ping every timeout/3) until closeSession. */
  async createSession(timeout_ms: number): Promise<{ sessionId: number; timeout_ms: number }> {
    const reply = await this.call<SessionReply>({ op: 'createSession', timeout_ms }, 'leader', false);
    const keepalive = setInterval(() => {
      this.ping(reply.sessionId).catch((err: unknown) => {
        this.options.logger.warn({ err, sessionId: reply.sessionId }, 'session keepalive failed');
      });
    }, Math.max(50, Math.floor(reply.timeout_ms / 3)));
    this.sessions.set(reply.sessionId, keepalive);
    return { sessionId: reply.sessionId, timeout_ms: reply.timeout_ms };
  }

  /** Stops keeping a session alive without closing it (it then expires, as after a crash). */
  abandonSession(sessionId: number): void {
    const timer = this.sessions.get(sessionId);
    if (timer !== undefined) clearInterval(timer);
    this.sessions.delete(sessionId);
  }

  async closeSession(sessionId: number): Promise<void> {
    this.abandonSession(sessionId);
    await this.call<ReplyHeader>({ op: 'closeSession', sessionId }, 'leader', false);
  }

  /** A heartbeat; also how an idle client notices a new leader (to re-register its watches). */
  async ping(sessionId = 0): Promise<ReplyHeader> {
    return this.call<ReplyHeader>({ op: 'ping', sessionId }, 'leader', true);
  }

  /** One replica's status (role, epoch, zxid, snapshot counters). */
  async replicaStatus(nodeId: string): Promise<ReplicaStatus> {
    return this.options.transport.request<ReplicaStatus>(this.subjects.replicaStatus('meta', nodeId), { op: 'status' }, { timeout_ms: this.attemptTimeout_ms });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchKeeper);
    for (const timer of this.sessions.values()) clearInterval(timer);
    this.sessions.clear();
    if (this.watches.size > 0) {
      this.closed = false; // one last call
      await this.call<ReplyHeader>({ op: 'removeWatcher', watcher: this.clientId }, 'leader', true).catch(() => undefined);
      this.closed = true;
    }
    this.eventsSubscription?.unsubscribe();
    this.eventsSubscription = undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  private deliver(event: WatchNotification): void {
    if (event.zxid > this.lastZxid) this.lastZxid = event.zxid;
    // One-shot watches are used up; persistent ones stay.
    if (event.type === 'NodeChildrenChanged') this.watches.delete(`child:${event.path}`);
    else {
      this.watches.delete(`data:${event.path}`);
      this.watches.delete(`exist:${event.path}`);
      if (event.type === 'NodeDeleted') this.watches.delete(`child:${event.path}`);
    }
    for (const listener of this.listeners) listener(event);
  }

  /**
   * Sends a request, retrying until the call's deadline: always after errors that prove the
   * request was not carried out; after a timeout only when `idempotent` (a write that timed out
   * may have happened: the caller gets TIMEOUT, as ZooKeeper's connection loss).
   */
  private async call<Reply extends ReplyHeader>(request: MetaRequest, target: 'leader' | 'read', idempotent: boolean): Promise<Reply> {
    if (this.closed) throw new ShardkvError('CONNECTION_LOSS', 'the meta client is closed');
    const subject = target === 'leader' ? this.subjects.metaLeader() : this.subjects.metaRead();
    const deadline = Date.now() + this.timeout_ms;
    let backoff_ms = 20;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      try {
        const reply = await this.options.transport.request<Reply>(subject, request, {
          timeout_ms: Math.max(1, Math.min(this.attemptTimeout_ms, remaining)),
          noRespondersCode: 'NO_LEADER',
        });
        this.observe(reply);
        return reply;
      } catch (err) {
        const code = err instanceof ShardkvError ? err.code : undefined;
        const retry = code !== undefined && (RETRY_ALWAYS.has(code) || (idempotent && code === 'TIMEOUT'));
        if (!retry || Date.now() + backoff_ms >= deadline) throw err;
        this.options.logger.debug({ attempt, code, op: request.op }, 'meta request retried');
        await new Promise((resolve) => setTimeout(resolve, backoff_ms));
        backoff_ms = Math.min(backoff_ms * 2, 250);
      }
    }
  }

  private observe(reply: ReplyHeader): void {
    // The first reply from a new leader may already reflect changes this client's watches were
    // never told about: setWatches must start from the zxid seen before that reply.
    const seenBefore = this.lastZxid;
    if (typeof reply.zxid === 'number' && reply.zxid > this.lastZxid) this.lastZxid = reply.zxid;
    if (typeof reply.epoch !== 'number' || reply.epoch === 0 || reply.epoch === this.leaderEpoch) return;
    const previous = this.leaderEpoch;
    this.leaderEpoch = reply.epoch;
    if (previous !== 0 && this.watches.size > 0) void this.reRegisterWatches(seenBefore);
  }

  private async reRegisterWatches(relativeZxid: number): Promise<void> {
    const byKind = (kind: WatchKind) => [...this.watches.values()].filter((watch) => watch.kind === kind).map((watch) => watch.path);
    try {
      await this.call<ReplyHeader>({
        op: 'setWatches', watcher: this.clientId, relativeZxid,
        data: byKind('data'), exist: byKind('exist'), child: byKind('child'),
        persistent: byKind('persistent'), persistentRecursive: byKind('persistentRecursive'),
      }, 'leader', true);
    } catch (err) {
      this.options.logger.warn({ err }, 're-registering watches on the new meta leader failed');
    }
  }
}
