/**
 * A typed, watched configuration value following Apache Curator's NodeCache.
 *
 * Same: keeps the current data of one node in memory, re-read with exists/getData watches, and
 * tells listeners on every change, including creation and deletion (value undefined); start()
 * resolves once the first read is in.
 *
 * Differs: the value is typed: JSON decoded and checked by a `validate` function (which returns
 * the typed value or throws). Data that does not parse or validate keeps the last good value and
 * goes to error listeners instead. set() validates and encodes, creating the node if absent,
 * with an optional expected version (compare-and-set), which NodeCache leaves to the client.
 *
 *   const config = new ConfigWatch(session, '/config/db', { validate: parseDbConfig });
 *   config.addListener((value) => reconnect(value));
 *   await config.start();
 */
import { ShardkvClientError } from '../client-error.js';
import type { Session } from '../session.js';
import type { Stat } from '../types.js';
import { isCode } from './sequential-nodes.js';
import type { SessionWatches } from './session-watches.js';
import { WatchedView, type ViewRead } from './watched-view.js';


export interface ConfigWatchOptions<T> {
  /** Returns the value as T or throws: applied to every value read and written. */
  validate: (value: unknown) => T;
}

export type ConfigListener<T> = (value: T | undefined, stat: Stat | null) => void;

export class ConfigWatch<T> {
  private valueNow: T | undefined;
  private statNow: Stat | null = null;
  private readonly listeners = new Set<ConfigListener<T>>();
  private readonly errorListeners = new Set<(error: Error) => void>();
  private readonly view: WatchedView;

  constructor(
    readonly session: Session,
    readonly path: string,
    private readonly options: ConfigWatchOptions<T>,
  ) {
    this.view = new WatchedView(session, `the watch of ${path}`, (watches, signal) => this.refresh(watches, signal));
  }

  /** The last valid value; undefined when the node does not exist (or never held a valid one). */
  get value(): T | undefined {
    return this.valueNow;
  }

  /** The stat of the node as last read; null when it does not exist. */
  get stat(): Stat | null {
    return this.statNow;
  }

  addListener(listener: ConfigListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Told when the node holds data that is not valid JSON or fails `validate`. */
  addErrorListener(listener: (error: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  start(): Promise<void> {
    return this.view.start();
  }

  close(): Promise<void> {
    return this.view.close();
  }

  /** Validates, encodes and writes a value (creating the node); `version` makes it a compare-and-set. */
  async set(value: T, options: { version?: number } = {}): Promise<Stat> {
    const text = JSON.stringify(this.options.validate(value));
    if (options.version === undefined) {
      try {
        return (await this.session.client.set(this.path, text)).stat;
      } catch (err) {
        if (!isCode(err, 'NO_NODE')) throw err;
      }
      try {
        return (await this.session.client.create(this.path, text)).stat;
      } catch (err) {
        // Created meanwhile by someone else: ours is the later write.
        if (!isCode(err, 'NODE_EXISTS')) throw err;
        return (await this.session.client.set(this.path, text)).stat;
      }
    }
    return (await this.session.client.set(this.path, text, { version: options.version })).stat;
  }

  private refresh(watches: SessionWatches, signal: AbortSignal): ViewRead {
    const wakeup = watches.arm([this.path], signal);
    const loaded = (async () => {
      try {
        // exists sets a watch also when there is no node (it fires on creation).
        const stat = await this.session.exists(this.path, { watch: true });
        if (stat === null) {
          this.apply(undefined, null);
          return;
        }
        const node = await this.session.get(this.path, { watch: true });
        this.decodeAndApply(node.text, node.stat);
      } catch (err) {
        if (isCode(err, 'NO_NODE')) {
          // Deleted between the two reads: the exists watch wakes us again.
          this.apply(undefined, null);
          return;
        }
        wakeup.cancel();
        throw err;
      }
    })();
    return { loaded, woken: wakeup.wait().then((reason) => reason.kind) };
  }

  private decodeAndApply(text: string | null, stat: Stat): void {
    if (this.statNow !== null && this.statNow.mzxid === stat.mzxid && this.statNow.czxid === stat.czxid) return;
    let value: T;
    try {
      if (text === null) throw new Error('the data is not UTF-8 text');
      value = this.options.validate(JSON.parse(text));
    } catch (err) {
      this.statNow = stat;
      const error = new ShardkvClientError('BAD_CONFIG', 0, `${this.path} version ${stat.version}: ${err instanceof Error ? err.message : String(err)}`);
      for (const listener of [...this.errorListeners]) listener(error);
      return;
    }
    this.apply(value, stat);
  }

  private apply(value: T | undefined, stat: Stat | null): void {
    const unchanged = stat === null ? this.statNow === null && this.valueNow === undefined : this.statNow !== null && this.statNow.mzxid === stat.mzxid && this.statNow.czxid === stat.czxid;
    if (unchanged) return;
    this.valueNow = value;
    this.statNow = stat;
    for (const listener of [...this.listeners]) {
      try {
        listener(value, stat);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
