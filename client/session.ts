/**
 * A session: the owner of ephemeral nodes and the receiver of watch events. It keeps itself
 * alive with a keepalive every timeout/3 until close(); a keepalive answered SESSION_EXPIRED
 * ends it (state `expired`), as a ZooKeeper client's session-expired event does.
 */
import { ShardkvClientError } from './client-error.js';
import { parseEventStream } from './event-stream-parser.js';
import type { CreateOptions, ReadOptions, ShardkvClient } from './shardkv-client.js';
import type { ChildList, NodeData, Stat, WatchEvent } from './types.js';

export type SessionState = 'open' | 'closed' | 'expired';

/** A session's watch events; stop with close() or by leaving a for-await loop. */
export interface WatchEventStream extends AsyncIterable<WatchEvent> {
  close(): void;
}

export class Session {
  private stateValue: SessionState = 'open';
  private readonly timer: NodeJS.Timeout;
  private keepaliveInFlight = false;
  /** Keepalives the router acknowledged. */
  keepalives = 0;
  /** The last keepalive failure that did not end the session (e.g. the router was unreachable). */
  lastKeepaliveError: ShardkvClientError | undefined;
  /** Called once when the session stops being open. */
  onStateChange: ((state: SessionState) => void) | undefined;
  private readonly streams = new Set<AbortController>();

  constructor(
    /** The client this session talks through (recipes use it for the session-free calls). */
    readonly client: ShardkvClient,
    readonly id: string,
    readonly timeout_ms: number,
  ) {
    this.timer = setInterval(() => void this.keepalive(), Math.max(1, Math.floor(timeout_ms / 3)));
  }

  get state(): SessionState {
    return this.stateValue;
  }

  private end(state: 'closed' | 'expired'): void {
    if (this.stateValue !== 'open') return;
    this.stateValue = state;
    clearInterval(this.timer);
    for (const stream of this.streams) stream.abort();
    this.onStateChange?.(state);
  }

  private async keepalive(): Promise<void> {
    // One at a time: a slow router must not pile keepalives up.
    if (this.keepaliveInFlight || this.stateValue !== 'open') return;
    this.keepaliveInFlight = true;
    try {
      await this.client.http.send(`/v1/sessions/${this.id}/keepalive`, { method: 'POST', timeout_ms: this.timeout_ms });
      this.keepalives += 1;
      this.lastKeepaliveError = undefined;
    } catch (err) {
      if (err instanceof ShardkvClientError && err.code === 'SESSION_EXPIRED') this.end('expired');
      else this.lastKeepaliveError = err instanceof ShardkvClientError ? err : new ShardkvClientError('INTERNAL', 0, String(err));
    } finally {
      this.keepaliveInFlight = false;
    }
  }

  /** Closes the session on the router (its ephemerals go) and stops the keepalives. */
  async close(): Promise<void> {
    if (this.stateValue !== 'open') return;
    this.end('closed');
    try {
      await this.client.http.send(`/v1/sessions/${this.id}`, { method: 'DELETE' });
    } catch (err) {
      // Already gone is what close wants.
      if (!(err instanceof ShardkvClientError && err.code === 'SESSION_EXPIRED')) throw err;
    }
  }

  /**
   * Opens the session's event stream. Resolves once the router has the stream registered, so a
   * watch set after this resolves is never missed. Each call opens its own stream.
   */
  async events(): Promise<WatchEventStream> {
    const abort = new AbortController();
    this.streams.add(abort);
    let response: Response;
    try {
      // No deadline: the stream lives as long as the session.
      response = await this.client.http.send(`/v1/sessions/${this.id}/events`, { signal: abort.signal, timeout_ms: 0 });
    } catch (err) {
      this.streams.delete(abort);
      throw err;
    }
    const body = response.body;
    if (body === null) throw new ShardkvClientError('CONNECTION_LOSS', response.status, 'the event stream has no body');
    const close = (): void => {
      abort.abort();
      this.streams.delete(abort);
    };
    async function* watchEvents(): AsyncGenerator<WatchEvent> {
      try {
        for await (const frame of parseEventStream(body!)) {
          if (frame.event === 'end') return;
          if (frame.event === 'message') yield JSON.parse(frame.data) as WatchEvent;
        }
      } catch (err) {
        // Our own close() aborts the body read: that is the end of the stream, not an error.
        if (!abort.signal.aborted) throw err;
      } finally {
        close();
      }
    }
    const iterable = watchEvents();
    return { [Symbol.asyncIterator]: () => iterable, close };
  }

  /** get with this session (a watch fires on this session's event stream). */
  get(path: string, options: Omit<ReadOptions, 'session'> = {}): Promise<NodeData> {
    return this.client.get(path, { ...options, session: this.id });
  }

  /** The brief's name for get with a watch: `getData(path, { watch: true })`. */
  getData(path: string, options: Omit<ReadOptions, 'session'> = {}): Promise<NodeData> {
    return this.get(path, options);
  }

  exists(path: string, options: Omit<ReadOptions, 'session'> = {}): Promise<Stat | null> {
    return this.client.exists(path, { ...options, session: this.id });
  }

  children(path: string, options: { watch?: boolean } = {}): Promise<ChildList> {
    return this.client.children(path, { ...options, session: this.id });
  }

  /** create owned by this session (mode `ephemeral` unless told otherwise). */
  create(path: string, data?: string | Uint8Array, options: Omit<CreateOptions, 'session'> = {}): Promise<{ path: string; stat: Stat }> {
    return this.client.create(path, data, { mode: 'ephemeral', ...options, session: this.id });
  }
}
