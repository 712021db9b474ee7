/**
 * The ring as a shard replica or a router knows it: read from the meta tree's /ring, kept
 * current by a data watch (re-armed on every event), and refreshed on demand when a request
 * shows a newer version than ours.
 */
import type { Logger } from '../logging/logger.js';
import { RING_PATH } from './cluster-records.js';
import type { MetaClient } from './meta-client.js';
import { Ring, type RingHasher } from '../ring/index.js';

export class RingWatch {
  private current: Ring;
  private refreshing: Promise<Ring> | undefined;
  private readonly listeners = new Set<(ring: Ring) => void>();
  private unsubscribe: (() => void) | undefined;

  private constructor(
    private readonly meta: MetaClient,
    private readonly hasher: RingHasher,
    private readonly logger: Logger,
  ) {
    this.current = Ring.empty(hasher);
  }

  static async start(meta: MetaClient, hasher: RingHasher, logger: Logger): Promise<RingWatch> {
    const watch = new RingWatch(meta, hasher, logger);
    watch.unsubscribe = meta.onWatchEvent((event) => {
      if (event.path === RING_PATH) void watch.refresh().catch((err: unknown) => logger.warn({ err }, 'ring refresh failed'));
    });
    await watch.refresh();
    return watch;
  }

  get ring(): Ring {
    return this.current;
  }

  onChange(listener: (ring: Ring) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads /ring (with a watch); concurrent callers share one read. */
  refresh(): Promise<Ring> {
    if (this.refreshing !== undefined) return this.refreshing;
    this.refreshing = (async () => {
      try {
        const { data } = await this.meta.getData(RING_PATH, { watch: true });
        const ring = Ring.fromJSON(JSON.parse(new TextDecoder().decode(data)), this.hasher);
        if (ring.version > this.current.version || this.current.groupCount === 0) this.install(ring);
        return this.current;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Makes sure we know at least `version` (a request from someone who saw a newer ring). */
  async atLeast(version: number): Promise<Ring> {
    if (this.current.version >= version) return this.current;
    return this.refresh();
  }

  private install(ring: Ring): void {
    const previous = this.current.version;
    this.current = ring;
    this.logger.info({ from: previous, to: ring.version, groups: ring.groupIds() }, 'ring updated');
    for (const listener of this.listeners) listener(ring);
  }

  close(): void {
    this.unsubscribe?.();
  }
}
