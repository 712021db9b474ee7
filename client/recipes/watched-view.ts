/**
 * The loop behind the recipes that keep a local view of some nodes current (ConfigWatch,
 * ServiceCache): read the view with watches, wait for a watch to wake us, read it again, until
 * closed or the session is lost. A failed read is retried after a short pause.
 */
import { ShardkvClientError } from '../client-error.js';
import type { Session } from '../session.js';
import { SessionWatches } from './session-watches.js';

const RETRY_MS = 100;

/** One read of the view: `loaded` once read, `woken` with the reason of the next wake-up. */
export interface ViewRead {
  loaded: Promise<void>;
  woken: Promise<string>;
}

export class WatchedView {
  private readonly stopping = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private started = false;

  /** `read` arms its watches with `signal` (aborted by close) and reads the view. */
  constructor(
    private readonly session: Session,
    private readonly what: string,
    private readonly read: (watches: SessionWatches, signal: AbortSignal) => ViewRead,
  ) {}

  /** Reads the view (resolves once read) and keeps it current until close(). */
  async start(): Promise<void> {
    if (this.started) throw new ShardkvClientError('BAD_ARGUMENTS', 0, `${this.what} was already started`);
    this.started = true;
    const watches = await SessionWatches.for(this.session);
    const first = this.read(watches, this.stopping.signal);
    await first.loaded;
    this.loop = this.run(watches, first.woken);
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async run(watches: SessionWatches, woken: Promise<string>): Promise<void> {
    let next = woken;
    while (!this.stopping.signal.aborted) {
      const reason = await next;
      if (reason === 'cancelled' || reason === 'session-lost') return;
      const pass = this.read(watches, this.stopping.signal);
      next = pass.loaded.then(() => pass.woken, async () => {
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        return 'retry';
      });
    }
  }
}
