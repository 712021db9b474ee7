/**
 * One consumer's queue of a session's watch events, as the async iterable that
 * ClusterBackend.sessionEvents returns. The backend pushes; the HTTP event stream pulls.
 * Bounded: a consumer more than `max_pending` events behind is ended (its client reconnects and
 * re-reads, as after a ZooKeeper disconnect) rather than letting the router's memory grow.
 */
import type { SessionWatchEvent } from './backend.js';

export const DEFAULT_MAX_PENDING_EVENTS = 10_000;

export class SessionEventQueue implements AsyncIterable<SessionWatchEvent> {
  private readonly pending: SessionWatchEvent[] = [];
  private waiting: ((result: IteratorResult<SessionWatchEvent>) => void) | undefined;
  private ended = false;
  /** True when the queue ended because the consumer fell too far behind. */
  overflowed = false;

  constructor(
    signal: AbortSignal,
    private readonly max_pending = DEFAULT_MAX_PENDING_EVENTS,
    private readonly onEnd: () => void = () => {},
  ) {
    if (signal.aborted) this.end();
    else signal.addEventListener('abort', () => this.end(), { once: true });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  push(event: SessionWatchEvent): void {
    if (this.ended) return;
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    if (this.pending.length >= this.max_pending) {
      this.overflowed = true;
      this.end();
      return;
    }
    this.pending.push(event);
  }

  /** No more events: the session closed or expired, or the consumer went away. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiting !== undefined) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
    this.onEnd();
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionWatchEvent> {
    return {
      next: () => {
        const event = this.pending.shift();
        if (event !== undefined) return Promise.resolve({ value: event, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
