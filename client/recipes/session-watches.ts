/**
 * One watch-event stream per session, shared by every recipe on that session, and the one way
 * recipes wait: arm a wake-up for some paths BEFORE the read that sets the watch, then wait on it.
 *
 * A wake-up fires on an event of one of its paths, on `WatchesLost` (a group changed leader and
 * dropped its watches, or the stream had to be reopened and may have missed events), and when
 * the session is lost. Every recipe treats any wake-up as "re-check the condition and re-set the
 * watch", so a spurious one costs a read and a missed one cannot happen.
 *
 * The session counts as lost (Curator's ConnectionState.LOST) when it is closed or expired, or
 * when the router has been unreachable for the session's timeout (the cluster has expired it by
 * then, as ZooKeeper does with a client that stays disconnected past its timeout).
 */
import { ShardkvClientError } from '../client-error.js';
import type { Session, WatchEventStream } from '../session.js';
import type { WatchEvent } from '../types.js';

export type WakeReason =
  | { kind: 'event'; event: WatchEvent }
  | { kind: 'watches-lost' }
  | { kind: 'session-lost' }
  | { kind: 'timeout' }
  | { kind: 'cancelled' };

export interface Wakeup {
  /** Waits for the wake-up; `timeout_ms` (when given) ends the wait with `timeout`. */
  wait(timeout_ms?: number): Promise<WakeReason>;
  /** Ends the wait with `cancelled` (e.g. the read found the condition already met). */
  cancel(): void;
}

/** Which event paths wake a waiter: a list of paths, or a test (e.g. "in this directory"). */
export type PathMatch = readonly string[] | ((path: string) => boolean);

interface Waiter {
  matches(path: string): boolean;
  wake(reason: WakeReason): void;
}

/** Pause between attempts to reopen a broken stream. */
const REOPEN_RETRY_MS = 100;

const shared = new WeakMap<Session, Promise<SessionWatches>>();

export class SessionWatches {
  /** Watch events received (not counting WatchesLost): lets tests see that no herd was woken. */
  eventsReceived = 0;
  private lostValue = false;
  private readonly waiters = new Set<Waiter>();

  private constructor(
    readonly session: Session,
    private stream: WatchEventStream,
  ) {}

  /** The session's shared instance (its stream is opened on first use). */
  static for(session: Session): Promise<SessionWatches> {
    let watches = shared.get(session);
    if (watches === undefined) {
      watches = SessionWatches.open(session);
      shared.set(session, watches);
      watches.catch(() => shared.delete(session));
    }
    return watches;
  }

  private static async open(session: Session): Promise<SessionWatches> {
    const watches = new SessionWatches(session, await session.events());
    void watches.pump();
    return watches;
  }

  /** The session is closed, expired or was unreachable for its timeout: nothing it owns remains. */
  get lost(): boolean {
    return this.lostValue;
  }

  arm(match: PathMatch, signal?: AbortSignal): Wakeup {
    let settle!: (reason: WakeReason) => void;
    const settled = new Promise<WakeReason>((resolve) => {
      settle = resolve;
    });
    const onAbort = (): void => waiter.wake({ kind: 'cancelled' });
    const waiter: Waiter = {
      matches: typeof match === 'function' ? match : (path) => match.includes(path),
      wake: (reason) => {
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        settle(reason);
      },
    };
    if (this.lostValue) waiter.wake({ kind: 'session-lost' });
    else if (signal?.aborted === true) waiter.wake({ kind: 'cancelled' });
    else {
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    }
    return {
      cancel: () => waiter.wake({ kind: 'cancelled' }),
      wait: async (timeout_ms) => {
        if (timeout_ms === undefined) return settled;
        const timer = setTimeout(() => waiter.wake({ kind: 'timeout' }), Math.max(0, timeout_ms));
        try {
          return await settled;
        } finally {
          clearTimeout(timer);
        }
      },
    };
  }

  private wakeAll(reason: WakeReason): void {
    for (const waiter of [...this.waiters]) waiter.wake(reason);
  }

  private dispatch(event: WatchEvent): void {
    if (event.type === 'WatchesLost') {
      this.wakeAll({ kind: 'watches-lost' });
      return;
    }
    this.eventsReceived += 1;
    for (const waiter of [...this.waiters]) if (waiter.matches(event.path)) waiter.wake({ kind: 'event', event });
  }

  private markLost(): void {
    this.lostValue = true;
    this.wakeAll({ kind: 'session-lost' });
  }

  /**
   * Reads the stream; when it ends or breaks while the session is open, reopens it (events may
   * have been missed: every waiter re-checks). Runs as long as the session is usable.
   */
  private async pump(): Promise<void> {
    let unreachableSince: number | undefined;
    for (;;) {
      try {
        for await (const event of this.stream) this.dispatch(event);
      } catch {
        // A broken connection: reopened below.
      }
      for (;;) {
        if (this.session.state !== 'open') {
          this.markLost();
          return;
        }
        try {
          this.stream = await this.session.events();
          unreachableSince = undefined;
          this.wakeAll({ kind: 'watches-lost' });
          break;
        } catch (err) {
          if (err instanceof ShardkvClientError && err.code === 'SESSION_EXPIRED') {
            this.markLost();
            return;
          }
          unreachableSince ??= Date.now();
          if (Date.now() - unreachableSince >= this.session.timeout_ms) {
            this.markLost();
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, REOPEN_RETRY_MS));
        }
      }
    }
  }
}

/** The error a recipe throws when its session is gone (its ephemeral nodes went with it). */
export function sessionLostError(what: string): ShardkvClientError {
  return new ShardkvClientError('SESSION_EXPIRED', 0, `${what}: the session was closed, expired or lost`);
}
