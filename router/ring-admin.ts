/**
 * Changes to the ring in the meta tree. Every change is a compare-and-set on /ring's znode
 * version, so two routers changing it at once cannot both win; the ring's own version goes up
 * by one with each change.
 */
import { ShardkvError } from '../errors/codes.js';
import type { Logger } from '../logging/logger.js';
import { RING_PATH } from '../meta/cluster-records.js';
import type { MetaClient } from '../meta/meta-client.js';
import { Ring, type RingHasher } from '../ring/index.js';

export class RingAdmin {
  constructor(
    private readonly meta: MetaClient,
    private readonly hasher: RingHasher,
    private readonly logger: Logger,
  ) {}

  async read(): Promise<{ ring: Ring; znodeVersion: number }> {
    const { data, stat } = await this.meta.getData(RING_PATH);
    return { ring: Ring.fromJSON(JSON.parse(new TextDecoder().decode(data)), this.hasher), znodeVersion: stat.version };
  }

  /**
   * Applies `change` to the current ring and writes it back if /ring did not change meanwhile;
   * retries on a concurrent change. `change` returns undefined when there is nothing to do.
   */
  async update(change: (ring: Ring) => Ring | undefined): Promise<Ring> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const { ring, znodeVersion } = await this.read();
      const next = change(ring);
      if (next === undefined) return ring;
      try {
        await this.meta.setData(RING_PATH, new TextEncoder().encode(JSON.stringify(next.toJSON())), znodeVersion);
        this.logger.info({ from: ring.version, to: next.version, groups: next.groupIds() }, 'ring changed');
        return next;
      } catch (err) {
        if (!(err instanceof ShardkvError && err.code === 'BAD_VERSION')) throw err;
      }
    }
    throw new ShardkvError('UNAVAILABLE', 'the ring kept changing concurrently; retry');
  }

  /** A fresh cluster: puts `groups` on an empty ring (no data can exist yet, so nothing moves). */
  bootstrap(groups: string[]): Promise<Ring> {
    return this.update((ring) => {
      if (ring.groupCount > 0 || groups.length === 0) return undefined;
      let next = ring;
      for (const group of groups) next = next.withGroupAdded(group);
      return next;
    });
  }
}
