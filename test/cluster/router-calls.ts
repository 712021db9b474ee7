/**
 * The router HTTP API as the cluster tests call it: plain fetch (keep-alive), every answer as
 * {status, body} so a test can assert on both. Raw paths (`..`, `//`) go through node:http,
 * since fetch normalises URLs.
 */
import { request as httpRequest, type Agent } from 'node:http';

/** Retries of a write answered 503/504 (see create). */
const RETRIES = 3;

export interface Answer<Body = Record<string, unknown>> {
  status: number;
  body: Body;
}

export interface NodeBody {
  path: string;
  data: string;
  encoding: string;
  stat: { version: number; ephemeralOwner: number; mzxid: number };
}

async function answer<Body>(response: Response): Promise<Answer<Body>> {
  const text = await response.text();
  return { status: response.status, body: (text.length === 0 ? {} : JSON.parse(text)) as Body };
}

export class RouterCalls {
  constructor(readonly url: string) {}

  /** One create, its answer as is (a 504 is an unknown outcome). */
  async createOnce(path: string, data: string, query = ''): Promise<Answer<{ path: string; code?: string }>> {
    return answer(await fetch(`${this.url}/v1/nodes${path}${query === '' ? '' : `?${query}`}`, { method: 'POST', body: data }));
  }

  /**
   * A create that outlasts an overloaded machine: 503/504 (not done, or outcome unknown) are
   * retried a few times, and NODE_EXISTS after an unknown outcome means the earlier try landed.
   */
  async create(path: string, data: string, query = ''): Promise<Answer<{ path: string; code?: string }>> {
    let reply = await this.createOnce(path, data, query);
    for (let retry = 0; retry < RETRIES && (reply.status === 503 || reply.status === 504); retry++) {
      const again = await this.createOnce(path, data, query);
      reply = again.status === 409 && again.body.code === 'NODE_EXISTS' && reply.status === 504 ? { status: 201, body: { path } } : again;
    }
    return reply;
  }

  async get(path: string, query = ''): Promise<Answer<NodeBody & { code?: string }>> {
    return answer(await fetch(`${this.url}/v1/nodes${path}${query === '' ? '' : `?${query}`}`));
  }

  /** A set; an unconditional one (no version) is retried on 503/504 like create. */
  async set(path: string, data: string, query = ''): Promise<Answer<{ path: string; code?: string }>> {
    const once = async (): Promise<Answer<{ path: string; code?: string }>> =>
      answer(await fetch(`${this.url}/v1/nodes${path}${query === '' ? '' : `?${query}`}`, { method: 'PUT', body: data }));
    let reply = await once();
    for (let retry = 0; retry < RETRIES && !query.includes('version=') && (reply.status === 503 || reply.status === 504); retry++) reply = await once();
    return reply;
  }

  async children(path: string, query = ''): Promise<Answer<{ children: string[]; code?: string }>> {
    return answer(await fetch(`${this.url}/v1/children${path}${query === '' ? '' : `?${query}`}`));
  }

  async openSession(timeout_ms: number): Promise<string> {
    const reply = await answer<{ id: string }>(await fetch(`${this.url}/v1/sessions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeoutMs: timeout_ms }),
    }));
    if (reply.status !== 201) throw new Error(`POST /v1/sessions answered ${reply.status}: ${JSON.stringify(reply.body)}`);
    return reply.body.id;
  }

  async keepalive(sessionId: string): Promise<Answer<{ code?: string; message?: string }>> {
    return answer(await fetch(`${this.url}/v1/sessions/${sessionId}/keepalive`, { method: 'POST' }));
  }

  async closeSession(sessionId: string): Promise<Answer<{ code?: string }>> {
    return answer(await fetch(`${this.url}/v1/sessions/${sessionId}`, { method: 'DELETE' }));
  }

  async json(method: string, route: string, body: string, contentType = 'application/json'): Promise<Answer<{ code?: string; message?: string }>> {
    return answer(await fetch(`${this.url}${route}`, { method, headers: { 'content-type': contentType }, body }));
  }

  /** A request whose path is sent byte for byte as given (no URL normalisation). */
  raw(method: string, rawPath: string, body?: string): Promise<Answer<{ code?: string; message?: string }>> {
    return this.send(method, rawPath, body).answer;
  }

  /**
   * A request over node:http (on `agent`'s sockets if given): `written` resolves once the whole
   * request is in the kernel's socket buffer, even when the router is not reading (paused).
   */
  send(method: string, rawPath: string, body?: string, agent?: Agent): { written: Promise<void>; answer: Promise<Answer<{ code?: string; message?: string }>> } {
    const target = new URL(this.url);
    let written!: Promise<void>;
    const answer = new Promise<Answer<{ code?: string; message?: string }>>((resolve, reject) => {
      const outgoing = httpRequest({ host: target.hostname, port: target.port, method, path: rawPath, headers: body === undefined ? {} : { 'content-type': 'application/octet-stream' }, ...(agent === undefined ? {} : { agent }) }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: incoming.statusCode ?? 0, body: text.length === 0 ? {} : JSON.parse(text) });
          } catch (err) {
            reject(new Error(`${method} ${rawPath}: not JSON (${(err as Error).message}): ${text.slice(0, 200)}`));
          }
        });
      });
      outgoing.on('error', reject);
      written = new Promise((resolveWritten) => outgoing.once('finish', () => resolveWritten()));
      outgoing.end(body);
    });
    return { written, answer };
  }

  /** A counter of /metrics summed over its label sets. */
  async counter(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }
}
