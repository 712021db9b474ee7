/**
 * An in-memory ClusterBackend for the HTTP layer's tests: one znode tree in implicit mode (the
 * shard data plane's semantics), prepared and applied directly at increasing zxids, sessions in
 * the model's bookkeeping with real-clock expiry, watch events fed to the session streams.
 * A strict tree plays the meta tree. No replication, no ring lookup: that is the lead's backend.
 */
import { ShardkvError } from '../../errors/codes.js';
import { Ring } from '../../ring/ring.js';
import type { RingHasher } from '../../ring/hasher.js';
import type {
  ChildrenOptions,
  ChildrenRead,
  ClusterBackend,
  CreateOptions,
  GroupView,
  HealthView,
  MetaRead,
  MultiOpResult,
  NodeRead,
  ReadOptions,
  RingView,
  SessionWatchEvent,
} from '../../router/http/backend.js';
import { ringView } from '../../router/http/ring-view.js';
import { SessionEventQueue } from '../../router/http/session-event-queue.js';
import { TxnPreparer } from '../../znode/txn-preparer.js';
import type { CreateMode, MultiOpRequest, Request, Stat, TxnResult, WatchEvent } from '../../znode/types.js';
import { ZnodeTree } from '../../znode/znode-tree.js';

export interface MemoryBackendOptions {
  hasher: RingHasher;
  maxDataBytes?: number;
  /** How often expired sessions are looked for. */
  expiryCheck_ms?: number;
}

export class MemoryBackend implements ClusterBackend {
  readonly tree: ZnodeTree;
  private readonly preparer: TxnPreparer;
  private readonly meta = new ZnodeTree({ hierarchy: 'strict' });
  private readonly ringValue: Ring;
  private zxid = 0;
  private metaZxid = 0;
  private nextSessionId = 1;
  private readonly streams = new Map<number, Set<SessionEventQueue>>();
  private readonly expiryTimer: NodeJS.Timeout;
  /** Counts per method, for tests that wait on calls (e.g. keepalives). */
  readonly calls = new Map<string, number>();
  /** Set by a test to make the next calls fail with an unexpected (non-Shardkv) error. */
  failWith: Error | undefined;
  /** Set by a test to make health() report this status. */
  healthStatus: HealthView['status'] = 'ok';

  constructor(options: MemoryBackendOptions) {
    this.tree = new ZnodeTree({ hierarchy: 'implicit', ...(options.maxDataBytes === undefined ? {} : { maxDataBytes: options.maxDataBytes }) });
    this.preparer = new TxnPreparer(this.tree);
    this.ringValue = Ring.empty(options.hasher, { vnodesPerGroup: 4 }).withGroupAdded('g1').withGroupAdded('g2');
    const metaPreparer = new TxnPreparer(this.meta);
    const metaCreate = (path: string, text: string): void => {
      this.metaZxid += 1;
      const txn = metaPreparer.prepare({ op: 'create', path, data: Buffer.from(text), mode: 'persistent' }, { zxid: this.metaZxid, sessionId: 0, now_ms: 0 });
      this.meta.apply(txn, this.metaZxid, 0);
      metaPreparer.committed(this.metaZxid);
    };
    metaCreate('/ring', JSON.stringify(this.ringValue.toJSON()));
    metaCreate('/groups', '');
    metaCreate('/groups/g1', '');
    metaCreate('/groups/g2', '');
    this.expiryTimer = setInterval(() => this.expireSessions(), options.expiryCheck_ms ?? 50);
    this.expiryTimer.unref();
  }

  /** Stops the expiry timer and ends every event stream. */
  close(): void {
    clearInterval(this.expiryTimer);
    for (const queues of this.streams.values()) for (const queue of queues) queue.end();
  }

  callCount(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  private count(method: string): void {
    this.calls.set(method, this.callCount(method) + 1);
    if (this.failWith !== undefined) throw this.failWith;
  }

  /** prepare + apply in one step, as a leader of a group of one would. */
  private write(request: Request, sessionId = 0): TxnResult {
    const zxid = this.zxid + 1;
    const now_ms = Date.now();
    const txn = this.preparer.prepare(request, { zxid, sessionId, now_ms });
    this.zxid = zxid;
    const { result, events } = this.tree.apply(txn, zxid, now_ms);
    this.preparer.committed(zxid);
    this.deliver(events);
    return result;
  }

  private deliver(events: WatchEvent[]): void {
    for (const event of events) {
      const delivered: SessionWatchEvent = { type: event.type, path: event.path, zxid: event.zxid };
      for (const watcher of event.watchers) {
        for (const queue of this.streams.get(Number(watcher)) ?? []) queue.push(delivered);
      }
    }
  }

  private requireSession(sessionId: number | undefined): void {
    if (sessionId !== undefined && !this.tree.hasSession(sessionId)) {
      throw new ShardkvError('SESSION_EXPIRED', `session ${sessionId} is unknown or expired`, { sessionId });
    }
  }

  private expireSessions(): void {
    for (const sessionId of this.tree.expiredSessions(Date.now())) this.endSession(sessionId);
  }

  private endSession(sessionId: number): void {
    this.write({ op: 'closeSession', sessionId });
    this.tree.removeWatcher(sessionId);
    for (const queue of this.streams.get(sessionId) ?? []) queue.end();
    this.streams.delete(sessionId);
  }

  async create(path: string, data: Uint8Array, mode: CreateMode, options: CreateOptions): Promise<{ path: string; stat: Stat }> {
    this.count('create');
    this.requireSession(options.sessionId);
    const request = options.ttl_ms === undefined ? { op: 'create' as const, path, data, mode } : { op: 'create' as const, path, data, mode, ttl_ms: options.ttl_ms };
    const result = this.write(request, options.sessionId ?? 0);
    if (result.type !== 'create') throw new ShardkvError('INTERNAL', `create answered ${result.type}`);
    return { path: result.path, stat: result.stat };
  }

  async get(path: string, options: ReadOptions): Promise<NodeRead> {
    this.count('get');
    this.requireSession(options.sessionId);
    return this.tree.getData(path, options.watch ? options.sessionId : undefined);
  }

  async exists(path: string, options: ReadOptions): Promise<Stat | null> {
    this.count('exists');
    this.requireSession(options.sessionId);
    return this.tree.exists(path, options.watch ? options.sessionId : undefined);
  }

  async set(path: string, data: Uint8Array, version: number): Promise<{ stat: Stat }> {
    this.count('set');
    const result = this.write({ op: 'setData', path, data, version });
    if (result.type !== 'setData') throw new ShardkvError('INTERNAL', `setData answered ${result.type}`);
    return { stat: result.stat };
  }

  async delete(path: string, version: number): Promise<void> {
    this.count('delete');
    this.write({ op: 'delete', path, version });
  }

  async children(path: string, options: ChildrenOptions): Promise<ChildrenRead> {
    this.count('children');
    this.requireSession(options.sessionId);
    const { children, stat } = this.tree.getChildren(path, options.watch ? options.sessionId : undefined);
    return { children, stat };
  }

  async multi(ops: MultiOpRequest[], options: { sessionId?: number }): Promise<MultiOpResult[]> {
    this.count('multi');
    this.requireSession(options.sessionId);
    const result = this.write({ op: 'multi', ops }, options.sessionId ?? 0);
    if (result.type !== 'multi') throw new ShardkvError('INTERNAL', `multi answered ${result.type}`);
    return result.results.map((sub): MultiOpResult => {
      switch (sub.type) {
        case 'create':
          return { op: 'create', path: sub.path, stat: sub.stat };
        case 'setData':
          return { op: 'setData', path: sub.path, stat: sub.stat };
        case 'delete':
          return { op: 'delete', path: sub.path };
        case 'check':
          return { op: 'check', path: sub.path };
        case 'noop':
          throw new ShardkvError('INTERNAL', 'a live multi applied a noop');
      }
    });
  }

  async openSession(timeout_ms: number): Promise<{ id: number; timeout_ms: number }> {
    this.count('openSession');
    const id = this.nextSessionId++;
    this.write({ op: 'createSession', sessionId: id, timeout_ms });
    this.tree.touchSession(id, Date.now());
    return { id, timeout_ms };
  }

  async keepalive(sessionId: number): Promise<void> {
    this.count('keepalive');
    if (!this.tree.touchSession(sessionId, Date.now())) {
      throw new ShardkvError('SESSION_EXPIRED', `session ${sessionId} is unknown or expired`, { sessionId });
    }
  }

  async closeSession(sessionId: number): Promise<void> {
    this.count('closeSession');
    this.requireSession(sessionId);
    this.endSession(sessionId);
  }

  async sessionEvents(sessionId: number, signal: AbortSignal): Promise<AsyncIterable<SessionWatchEvent>> {
    this.count('sessionEvents');
    this.requireSession(sessionId);
    let queues = this.streams.get(sessionId);
    if (queues === undefined) {
      queues = new Set();
      this.streams.set(sessionId, queues);
    }
    const owned = queues;
    const queue: SessionEventQueue = new SessionEventQueue(signal, undefined, () => owned.delete(queue));
    owned.add(queue);
    return queue;
  }

  /** Event streams open for a session (for tests of disconnect clean-up). */
  streamCount(sessionId: number): number {
    return this.streams.get(sessionId)?.size ?? 0;
  }

  async ring(): Promise<RingView> {
    this.count('ring');
    return ringView(this.ringValue);
  }

  async groups(): Promise<GroupView[]> {
    this.count('groups');
    return [
      { id: 'g1', state: 'active', members: ['r1', 'r2', 'r3'], leader: 'r1' },
      { id: 'g2', state: 'active', members: ['r1', 'r2', 'r3'], leader: null },
    ];
  }

  async metaGet(path: string): Promise<MetaRead> {
    this.count('metaGet');
    const { data, stat } = this.meta.getData(path);
    return { data, stat, children: this.meta.getChildren(path).children };
  }

  async health(): Promise<HealthView> {
    this.count('health');
    const ok = this.healthStatus !== 'down';
    return { status: this.healthStatus, checks: [{ name: 'memory', ok, ...(ok ? {} : { message: 'told to be down' }) }] };
  }
}
