/**
 * Sends a data-plane request to the group that owns its placement key: hash the key on the
 * cached ring, request the group's leader subject (whoever leads answers), and on MOVED
 * refresh the ring and retry; on no leader, retry with backoff until the deadline, then 503.
 */
import { ShardkvError } from '../errors/codes.js';
import type { Logger } from '../logging/logger.js';
import type { RingWatch } from '../meta/ring-watch.js';
import type { Subjects } from '../net/subjects.js';
import type { Transport } from '../net/transport.js';
import type { ShardReplyHeader, ShardRequest } from '../protocol/shard.js';
import type { Ring } from '../ring/ring.js';
import type { RouterMetrics } from './http/metrics.js';

/** A shard request without its ring version (the forwarder adds the one it routes by). */
export type UnversionedShardRequest = ShardRequest extends infer R ? (R extends ShardRequest ? Omit<R, 'ringVersion'> : never) : never;

export interface ShardForwarderOptions {
  transport: Transport;
  subjects: Subjects;
  ring: RingWatch;
  logger: Logger;
  metrics: RouterMetrics;
  /** Deadline of one call, retries included. Default 10 s. */
  timeout_ms?: number;
  /** Deadline of one attempt. Default 3 s. */
  attemptTimeout_ms?: number;
  /** MOVED answers followed before giving up (the ring keeps changing). Default 8. */
  maxMovedRetries?: number;
}

const LEADERLESS = new Set(['NO_LEADER', 'NOT_LEADER']);

export class ShardForwarder {
  constructor(private readonly options: ShardForwarderOptions) {}

  /** The group that owns `key` on the current ring (refreshing a ring that has no groups yet). */
  async ownerOf(key: string): Promise<{ ring: Ring; group: string }> {
    let ring = this.options.ring.ring;
    if (ring.groupCount === 0) ring = await this.options.ring.refresh();
    if (ring.groupCount === 0) throw new ShardkvError('UNAVAILABLE', 'the ring has no shard groups yet: add one (shardkv group add)');
    return { ring, group: ring.ownerOf(key) };
  }

  /**
   * Forwards `request` to the owner of `key`. `idempotent` requests (reads, keepalives) are also
   * retried after a TIMEOUT; a write that timed out may have happened, so its TIMEOUT reaches the caller.
   */
  async send<Reply extends ShardReplyHeader>(key: string, request: UnversionedShardRequest, idempotent: boolean): Promise<Reply> {
    const { transport, subjects, metrics } = this.options;
    const deadline = Date.now() + (this.options.timeout_ms ?? 10_000);
    let moved = 0;
    let backoff_ms = 20;
    for (;;) {
      const { ring, group } = await this.ownerOf(key);
      const remaining = deadline - Date.now();
      try {
        const reply = await transport.request<Reply>(subjects.groupLeader(group), { ...request, ringVersion: ring.version }, {
          timeout_ms: Math.max(1, Math.min(this.options.attemptTimeout_ms ?? 3_000, remaining)),
          noRespondersCode: 'NO_LEADER',
        });
        metrics.setLeaderKnown(group, true);
        if (reply.ringVersion > ring.version) void this.options.ring.atLeast(reply.ringVersion);
        return reply;
      } catch (err) {
        if (!(err instanceof ShardkvError)) throw err;
        if (err.code === 'MOVED') {
          metrics.countMovedRetry(group);
          if (++moved > (this.options.maxMovedRetries ?? 8)) throw new ShardkvError('UNAVAILABLE', 'the ring keeps changing under this request; retry', { group });
          const theirs = Number(err.details?.ringVersion ?? 0);
          // A group with an older ring than ours is behind: give it a moment to catch up.
          if (theirs > ring.version) await this.options.ring.atLeast(theirs);
          else if (theirs === ring.version) await this.options.ring.refresh();
          else await pause(Math.min(backoff_ms, Math.max(0, deadline - Date.now())));
          continue;
        }
        const retryable = LEADERLESS.has(err.code) || (idempotent && (err.code === 'TIMEOUT' || err.code === 'UNAVAILABLE'));
        if (LEADERLESS.has(err.code)) metrics.setLeaderKnown(group, false);
        if (!retryable) throw err;
        if (Date.now() + backoff_ms >= deadline) {
          if (LEADERLESS.has(err.code)) throw new ShardkvError('NO_LEADER', `no leader answered for group ${group} before the deadline`, { group });
          throw err;
        }
        this.options.logger.debug({ group, code: err.code }, 'shard request retried');
        await pause(backoff_ms);
        backoff_ms = Math.min(backoff_ms * 2, 250);
      }
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
