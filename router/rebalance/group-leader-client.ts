/**
 * Requests to a shard group's leader for the rebalance ops: whoever leads answers on the
 * group's leader subject; while no leader answers (an election), retry with backoff until the
 * deadline. Every rebalance op is safe to repeat, so timeouts are retried too.
 */
import { ShardkvError } from '../../errors/codes.js';
import type { Subjects } from '../../net/subjects.js';
import type { Transport } from '../../net/transport.js';
import type { ShardReplyHeader, ShardRequest } from '../../protocol/shard.js';
import type { RangeRequest } from '../../shard/range-ops.js';

const RETRYABLE = new Set(['NO_LEADER', 'NOT_LEADER', 'TIMEOUT', 'CONNECTION_LOSS']);

export class GroupLeaderClient {
  constructor(
    private readonly transport: Transport,
    private readonly subjects: Subjects,
    private readonly options: { timeout_ms?: number; attemptTimeout_ms?: number } = {},
  ) {}

  async send<Reply extends ShardReplyHeader>(group: string, request: RangeRequest | Omit<RangeRequest, 'ringVersion'>, ringVersion = 0): Promise<Reply> {
    const deadline = Date.now() + (this.options.timeout_ms ?? 30_000);
    let backoff_ms = 20;
    for (;;) {
      try {
        return await this.transport.request<Reply>(this.subjects.groupLeader(group), { ...request, ringVersion } as ShardRequest, {
          timeout_ms: Math.max(1, Math.min(this.options.attemptTimeout_ms ?? 10_000, deadline - Date.now())),
          noRespondersCode: 'NO_LEADER',
        });
      } catch (err) {
        if (!(err instanceof ShardkvError) || !RETRYABLE.has(err.code) || Date.now() + backoff_ms >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, backoff_ms));
        backoff_ms = Math.min(backoff_ms * 2, 500);
      }
    }
  }
}
