/**
 * The SDK's HTTP calls: URL building (a znode path is the rest of the URL, each component
 * percent-encoded), deadlines, and turning error answers into ShardkvClientError.
 */
import { ShardkvClientError } from './client-error.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: Uint8Array | string;
  json?: unknown;
  /** Aborts the request; the deadline applies on top unless `timeout_ms` is 0. */
  signal?: AbortSignal;
  timeout_ms?: number;
  /** Non-2xx statuses whose body is an answer, not an error (503 of /healthz). */
  acceptStatus?: number[];
}

/** `/a/b c` -> `/a/b%20c`. Relative components are refused here: URLs would resolve them away. */
export function encodeNodePath(path: string): string {
  if (!path.startsWith('/')) throw new ShardkvClientError('BAD_PATH', 400, `invalid path ${JSON.stringify(path)}: it must start with "/"`);
  const components = path.slice(1).split('/');
  if (components.some((name) => name === '.' || name === '..')) {
    throw new ShardkvClientError('BAD_PATH', 400, `invalid path ${JSON.stringify(path)}: no "." or ".." components`);
  }
  return `/${components.map(encodeURIComponent).join('/')}`;
}

export class HttpTransport {
  readonly baseUrl: string;

  constructor(
    url: string,
    private readonly timeout_ms: number,
  ) {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  /** Sends a request; resolves with the response of a 2xx answer, throws ShardkvClientError otherwise. */
  async send(route: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.baseUrl + route);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {};
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
    }
    const timeout_ms = options.timeout_ms ?? this.timeout_ms;
    // A plain (ref'd) timer, not AbortSignal.timeout: when the server drops the connection without
    // an answer, Node 20's fetch can leave its promise pending with nothing keeping the process
    // alive, and a CLI would then exit 0 having printed nothing.
    const deadline = new AbortController();
    const timer = timeout_ms > 0 ? setTimeout(() => deadline.abort(new DOMException('deadline passed', 'TimeoutError')), timeout_ms) : undefined;
    const signals = [options.signal, timer === undefined ? undefined : deadline.signal].filter((s): s is AbortSignal => s !== undefined);
    let response: Response;
    try {
      response = await fetch(url, {
        method: options.method ?? 'GET',
        headers,
        ...(body === undefined ? {} : { body }),
        ...(signals.length === 0 ? {} : { signal: AbortSignal.any(signals) }),
      });
    } catch (err) {
      throw transportError(err, url, timeout_ms);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    if (response.ok || options.acceptStatus?.includes(response.status) === true) return response;
    throw await answerError(response);
  }

  async json<T>(route: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(route, options);
    return (await response.json()) as T;
  }
}

function transportError(err: unknown, url: URL, timeout_ms: number): ShardkvClientError {
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError') return new ShardkvClientError('TIMEOUT', 0, `no answer from ${url.origin} within ${timeout_ms} ms`);
  if (name === 'AbortError') return new ShardkvClientError('ABORTED', 0, `request to ${url.origin} aborted`);
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : err instanceof Error ? `: ${err.message}` : '';
  return new ShardkvClientError('CONNECTION_LOSS', 0, `cannot reach the router at ${url.origin}${cause}`);
}

async function answerError(response: Response): Promise<ShardkvClientError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; details?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string') {
      const details = typeof body.details === 'object' && body.details !== null ? (body.details as Record<string, unknown>) : undefined;
      return new ShardkvClientError(body.code, response.status, body.message, details);
    }
  } catch {
    // not JSON: fall through
  }
  return new ShardkvClientError(`HTTP_${response.status}`, response.status, text.slice(0, 200) || response.statusText);
}
