/**
 * The router's real backend: the data plane through the shard groups (ShardForwarder), the
 * cluster's description from the meta tree (ring, groups), and session event streams from the
 * session's events subject on NATS (so any router can serve any session's stream).
 */
import { randomInt } from 'node:crypto';
import { ShardkvError } from '../errors/codes.js';
import type { Logger } from '../logging/logger.js';
import { GROUPS_PATH, groupPath } from '../meta/cluster-records.js';
import type { MetaClient } from '../meta/meta-client.js';
import type { RingWatch } from '../meta/ring-watch.js';
import type { Subjects } from '../net/subjects.js';
import type { Transport } from '../net/transport.js';
import {
  ALL_SESSIONS, readPlacementKey, sessionPlacementKey, sessionWatcher, type SessionEvent, type ShardReadReply, type ShardReplyHeader,
  type ShardSessionReply, type ShardWriteReply,
} from '../protocol/shard.js';
import { placementKey } from '../ring/path.js';
import type { CreateMode, MultiOpRequest, Stat, TxnResult } from '../znode/types.js';
import type {
  ChildrenOptions, ChildrenRead, ClusterBackend, CreateOptions, GroupView, HealthView, MetaRead, MultiOpResult, NodeRead,
  ReadOptions, RingView, SessionWatchEvent,
} from './http/backend.js';
import type { RouterMetrics } from './http/metrics.js';
import { ringView } from './http/ring-view.js';
import { SessionEventQueue } from './http/session-event-queue.js';
import { ShardForwarder } from './shard-forwarder.js';

export interface ClusterBackendOptions {
  transport: Transport;
  subjects: Subjects;
  meta: MetaClient;
  ring: RingWatch;
  logger: Logger;
  metrics: RouterMetrics;
  timeout_ms?: number;
}

/** Session ids are random below 2^48: unique in practice, exact as numbers, short in URLs. */
const SESSION_ID_LIMIT = 2 ** 48;

export class ShardedClusterBackend implements ClusterBackend {
  private readonly forwarder: ShardForwarder;

  constructor(private readonly options: ClusterBackendOptions) {
    this.forwarder = new ShardForwarder({
      transport: options.transport,
      subjects: options.subjects,
      ring: options.ring,
      logger: options.logger,
      metrics: options.metrics,
      ...(options.timeout_ms === undefined ? {} : { timeout_ms: options.timeout_ms }),
    });
  }

  async create(path: string, data: Uint8Array, mode: CreateMode, options: CreateOptions): Promise<{ path: string; stat: Stat }> {
    const reply = await this.forwarder.send<ShardWriteReply>(placementKey(path), {
      op: 'create', path, data, mode, sessionId: options.sessionId ?? 0,
      ...(options.ttl_ms === undefined ? {} : { ttl_ms: options.ttl_ms }),
    }, false);
    const result = expectResult(reply.result, 'create');
    return { path: result.path, stat: result.stat };
  }

  async get(path: string, options: ReadOptions): Promise<NodeRead> {
    const reply = await this.read('getData', path, options.consistency, options.watch ? options.sessionId : undefined);
    return { data: reply.data ?? new Uint8Array(0), stat: reply.stat as Stat };
  }

  async exists(path: string, options: ReadOptions): Promise<Stat | null> {
    return (await this.read('exists', path, options.consistency, options.watch ? options.sessionId : undefined)).stat;
  }

  async set(path: string, data: Uint8Array, version: number): Promise<{ stat: Stat }> {
    const reply = await this.forwarder.send<ShardWriteReply>(placementKey(path), { op: 'setData', path, data, version }, false);
    return { stat: expectResult(reply.result, 'setData').stat };
  }

  async delete(path: string, version: number): Promise<void> {
    await this.forwarder.send<ShardWriteReply>(placementKey(path), { op: 'delete', path, version }, false);
  }

  async children(path: string, options: ChildrenOptions): Promise<ChildrenRead> {
    const reply = await this.read('getChildren', path, 'linearizable', options.watch ? options.sessionId : undefined);
    return { children: reply.children ?? [], stat: reply.stat };
  }

  async multi(ops: MultiOpRequest[], options: { sessionId?: number }): Promise<MultiOpResult[]> {
    if (ops.length === 0) return [];
    const keys = ops.map((op) => placementKey(op.path));
    const { ring } = await this.forwarder.ownerOf(keys[0] as string);
    const groups = new Set(keys.map((key) => ring.ownerOf(key)));
    if (groups.size > 1) {
      throw new ShardkvError('CROSS_SHARD_MULTI', `the multi spans directories owned by groups ${[...groups].sort().join(', ')}; a multi must stay on one group (one directory is always on one group)`, { groups: [...groups].sort() });
    }
    const reply = await this.forwarder.send<ShardWriteReply>(keys[0] as string, { op: 'multi', ops, sessionId: options.sessionId ?? 0 }, false);
    const result = reply.result;
    if (result.type !== 'multi') throw new ShardkvError('INTERNAL', `multi answered ${result.type}`);
    return result.results.map((sub): MultiOpResult => {
      switch (sub.type) {
        case 'create': return { op: 'create', path: sub.path, stat: sub.stat };
        case 'setData': return { op: 'setData', path: sub.path, stat: sub.stat };
        case 'delete': return { op: 'delete', path: sub.path };
        case 'check': return { op: 'check', path: sub.path };
        default: throw new ShardkvError('INTERNAL', `multi op answered ${sub.type}`);
      }
    });
  }

  async openSession(timeout_ms: number): Promise<{ id: number; timeout_ms: number }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const sessionId = randomInt(1, SESSION_ID_LIMIT);
      try {
        const reply = await this.forwarder.send<ShardSessionReply>(sessionPlacementKey(sessionId), { op: 'createSession', sessionId, timeout_ms }, false);
        return { id: reply.sessionId, timeout_ms: reply.timeout_ms };
      } catch (err) {
        // The same random id twice: draw another.
        if (!(err instanceof ShardkvError && err.code === 'BAD_ARGUMENTS' && /already exists/.test(err.message))) throw err;
      }
    }
    throw new ShardkvError('UNAVAILABLE', 'could not draw a free session id');
  }

  async keepalive(sessionId: number): Promise<void> {
    await this.forwarder.send<ShardReplyHeader>(sessionPlacementKey(sessionId), { op: 'keepalive', sessionId }, true);
  }

  async closeSession(sessionId: number): Promise<void> {
    await this.forwarder.send<ShardReplyHeader>(sessionPlacementKey(sessionId), { op: 'closeSession', sessionId }, false);
  }

  async sessionEvents(sessionId: number, signal: AbortSignal): Promise<AsyncIterable<SessionWatchEvent>> {
    await this.keepalive(sessionId); // SESSION_EXPIRED for an unknown session, before any header
    const { transport, subjects } = this.options;
    const subscriptions: Array<{ unsubscribe(): void }> = [];
    const queue = new SessionEventQueue(signal, undefined, () => {
      for (const subscription of subscriptions) subscription.unsubscribe();
    });
    const onEvent = ({ data }: { data: unknown }): void => {
      const event = data as SessionEvent;
      if (event.type === 'SessionClosed') queue.end();
      else queue.push({ type: event.type, path: event.path, zxid: event.zxid, ...(event.group === undefined ? {} : { group: event.group }) });
    };
    subscriptions.push(transport.subscribe(subjects.events(sessionWatcher(sessionId)), onEvent));
    subscriptions.push(transport.subscribe(subjects.events(ALL_SESSIONS), onEvent));
    if (queue.isEnded) for (const subscription of subscriptions) subscription.unsubscribe();
    return queue;
  }

  async ring(): Promise<RingView> {
    return ringView(await this.options.ring.refresh());
  }

  async groups(): Promise<GroupView[]> {
    const ring = await this.options.ring.refresh();
    const { meta, transport, subjects } = this.options;
    const registered = (await meta.getChildren(GROUPS_PATH)).children;
    const ids = [...new Set([...ring.groupIds(), ...registered])].sort();
    return Promise.all(ids.map(async (id): Promise<GroupView> => {
      const members = registered.includes(id) ? (await meta.getChildren(groupPath(id))).children : [];
      let leader: string | null = null;
      for (const member of members) {
        try {
          const status = await transport.request<{ role: string; established: boolean }>(subjects.replicaStatus(id, member), {}, { timeout_ms: 1_000 });
          if (status.role === 'leading' && status.established) leader = member;
        } catch {
          // An unreachable member is not the leader we can report.
        }
      }
      return { id, state: ring.hasGroup(id) ? ring.stateOf(id) : 'spare', members, leader };
    }));
  }

  async metaGet(path: string): Promise<MetaRead> {
    const { data, stat } = await this.options.meta.getData(path);
    const { children } = await this.options.meta.getChildren(path);
    return { data, stat, children };
  }

  async health(): Promise<HealthView> {
    const checks: HealthView['checks'] = [];
    try {
      await this.options.meta.ping();
      checks.push({ name: 'meta', ok: true });
    } catch (err) {
      checks.push({ name: 'meta', ok: false, message: err instanceof Error ? err.message : String(err) });
    }
    const ring = this.options.ring.ring;
    checks.push(ring.groupCount > 0
      ? { name: 'ring', ok: true, message: `version ${ring.version}, ${ring.groupCount} groups` }
      : { name: 'ring', ok: false, message: 'the ring has no groups' });
    const failing = checks.filter((check) => !check.ok).length;
    return { status: failing === 0 ? 'ok' : checks[0]?.ok === false ? 'down' : 'degraded', checks };
  }

  private read(read: 'getData' | 'exists' | 'getChildren', path: string, consistency: ReadOptions['consistency'], watchSession: number | undefined): Promise<ShardReadReply> {
    return this.forwarder.send<ShardReadReply>(readPlacementKey(read, path), {
      op: 'read', read, path, consistency, ...(watchSession === undefined ? {} : { watchSession }),
    }, true);
  }
}

function expectResult<T extends TxnResult['type']>(result: TxnResult, type: T): Extract<TxnResult, { type: T }> {
  if (result.type !== type) throw new ShardkvError('INTERNAL', `expected a ${type} result, got ${result.type}`);
  return result as Extract<TxnResult, { type: T }>;
}
