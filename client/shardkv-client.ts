/**
 * The shardkv TypeScript SDK: a thin typed client of the router HTTP API
 * (router/http/README.md), over Node 20's global fetch.
 *
 *   const client = new ShardkvClient({ url: 'http://127.0.0.1:7070' });
 *   await client.create('/config/db', 'postgres://...');
 *   const { text, stat } = await client.get('/config/db');
 *   const session = await client.session({ timeout_ms: 10_000 });   // keeps itself alive
 *   const events = await session.events();                          // watch events
 *   await session.get('/config/db', { watch: true });
 *   for await (const event of events) { ... }
 */
import { DEFAULT_REQUEST_TIMEOUT_MS, encodeNodePath, HttpTransport } from './http-transport.js';
import { fromNodeAnswer, toBytes, toJsonData, type NodeAnswer } from './node-codec.js';
import { Session } from './session.js';
import type {
  ChildList,
  Consistency,
  CreateMode,
  GroupInfo,
  Health,
  MetaNode,
  MultiOp,
  MultiResult,
  NodeData,
  RingInfo,
  Stat,
} from './types.js';

export interface ShardkvClientOptions {
  /** The router, e.g. http://127.0.0.1:7070. */
  url: string;
  /** Deadline of each request (default 30 s). */
  timeout_ms?: number;
}

/** A session given as a Session object or its id. */
export type SessionRef = Session | string;

export interface CreateOptions {
  mode?: CreateMode;
  /** Owner of an ephemeral node. */
  session?: SessionRef;
  /** For the ttl modes. */
  ttl_ms?: number;
}

export interface ReadOptions {
  /** One-shot watch, delivered on the session's event stream (needs `session`). */
  watch?: boolean;
  session?: SessionRef;
  consistency?: Consistency;
}

function sessionId(session: SessionRef | undefined): string | undefined {
  return session === undefined ? undefined : typeof session === 'string' ? session : session.id;
}

function readQuery(options: ReadOptions): Record<string, string | undefined> {
  return {
    watch: options.watch === true ? '1' : undefined,
    session: sessionId(options.session),
    consistency: options.consistency,
  };
}

export class ShardkvClient {
  /** @internal shared with Session */
  readonly http: HttpTransport;

  constructor(options: ShardkvClientOptions) {
    this.http = new HttpTransport(options.url, options.timeout_ms ?? DEFAULT_REQUEST_TIMEOUT_MS);
  }

  get url(): string {
    return this.http.baseUrl;
  }

  /** Creates a node; answers the created path (with its suffix for the sequential modes). */
  async create(path: string, data?: string | Uint8Array, options: CreateOptions = {}): Promise<{ path: string; stat: Stat }> {
    return this.http.json(`/v1/nodes${encodeNodePath(path)}`, {
      method: 'POST',
      body: toBytes(data),
      query: { mode: options.mode, session: sessionId(options.session), ttl: options.ttl_ms },
    });
  }

  async get(path: string, options: ReadOptions = {}): Promise<NodeData> {
    return fromNodeAnswer(await this.http.json<NodeAnswer>(`/v1/nodes${encodeNodePath(path)}`, { query: readQuery(options) }));
  }

  /** The stat, or null when there is no node (a watch then fires on its creation). */
  async exists(path: string, options: ReadOptions = {}): Promise<Stat | null> {
    const answer = await this.http.json<{ stat: Stat | null }>(`/v1/exists${encodeNodePath(path)}`, { query: readQuery(options) });
    return answer.stat;
  }

  /** Sets the data; `version` makes it conditional (BAD_VERSION otherwise). */
  async set(path: string, data: string | Uint8Array, options: { version?: number } = {}): Promise<{ path: string; stat: Stat }> {
    return this.http.json(`/v1/nodes${encodeNodePath(path)}`, { method: 'PUT', body: toBytes(data), query: { version: options.version } });
  }

  async delete(path: string, options: { version?: number } = {}): Promise<void> {
    await this.http.send(`/v1/nodes${encodeNodePath(path)}`, { method: 'DELETE', query: { version: options.version } });
  }

  async children(path: string, options: Omit<ReadOptions, 'consistency'> = {}): Promise<ChildList> {
    return this.http.json(`/v1/children${encodeNodePath(path)}`, {
      query: { watch: options.watch === true ? '1' : undefined, session: sessionId(options.session) },
    });
  }

  /** All or nothing, inside one directory. A failure throws MULTI_FAILED with per-op details. */
  async multi(ops: MultiOp[], options: { session?: SessionRef } = {}): Promise<MultiResult[]> {
    const body = ops.map((op) => {
      switch (op.op) {
        case 'create':
          return { op: 'create', path: op.path, ...toJsonData(op.data), ...(op.mode === undefined ? {} : { mode: op.mode }), ...(op.ttl_ms === undefined ? {} : { ttl: op.ttl_ms }) };
        case 'set':
          return { op: 'set', path: op.path, ...toJsonData(op.data), ...(op.version === undefined ? {} : { version: op.version }) };
        default:
          return { op: op.op, path: op.path, ...(op.version === undefined ? {} : { version: op.version }) };
      }
    });
    const answer = await this.http.json<{ results: MultiResult[] }>('/v1/multi', {
      method: 'POST',
      json: { ops: body },
      query: { session: sessionId(options.session) },
    });
    return answer.results;
  }

  /** Opens a session that keeps itself alive (a keepalive every timeout/3) until close(). */
  async session(options: { timeout_ms: number }): Promise<Session> {
    const answer = await this.http.json<{ id: string; timeout_ms: number }>('/v1/sessions', {
      method: 'POST',
      json: { timeout_ms: options.timeout_ms },
    });
    return new Session(this, answer.id, answer.timeout_ms);
  }

  async ring(): Promise<RingInfo> {
    return this.http.json('/v1/ring');
  }

  async groups(): Promise<GroupInfo[]> {
    return (await this.http.json<{ groups: GroupInfo[] }>('/v1/groups')).groups;
  }

  /** A node of the meta tree (read-only), with its children. */
  async meta(path: string): Promise<MetaNode> {
    const answer = await this.http.json<NodeAnswer & { children: string[] }>(`/v1/meta${encodeNodePath(path)}`);
    return { ...fromNodeAnswer(answer), children: answer.children };
  }

  /** The router's health; a router that is down answers 503 and this resolves with `status: 'down'`. */
  async health(): Promise<Health> {
    return this.http.json('/healthz', { acceptStatus: [503] });
  }
}
