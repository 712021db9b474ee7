/**
 * The real GroupLeaderClient's contract over the simulated bus, so the real RangeMover can be
 * driven in a simulation: a request goes to whichever replica of the group leads now; NO_LEADER,
 * NOT_LEADER, TIMEOUT and CONNECTION_LOSS are retried with backoff until the deadline (as the
 * real client does), in ticks instead of milliseconds. A coordinator that crashed stops at its
 * next request (CoordinatorGone); what it already sent is still delivered.
 */
import { ShardkvError } from '../../errors/codes.js';
import type { Transport } from '../../net/transport.js';
import { Subjects } from '../../net/subjects.js';
import type { ShardReplyHeader } from '../../protocol/shard.js';
import { GroupLeaderClient } from '../../router/rebalance/group-leader-client.js';
import type { RangeRequest } from '../../shard/range-ops.js';
import type { GroupNode } from './sim-shard-group.js';

const RETRYABLE = new Set(['NO_LEADER', 'NOT_LEADER', 'TIMEOUT', 'CONNECTION_LOSS']);

export class CoordinatorGone extends Error {}

/** What the client needs from the simulation. */
export interface LeaderBus {
  readonly now: number;
  /** A replica that leads `group` now (a random one if two think they do), or undefined. */
  leaderOf(group: string): GroupNode | undefined;
  /** Sends `serve` to run on `node` over the simulated bus; TIMEOUT after `timeout_ticks`. */
  request<T>(node: GroupNode, serve: (node: GroupNode) => Promise<T>, timeout_ticks: number): Promise<T>;
  sleep(ticks: number): Promise<void>;
  /** Whether the coordinator of this generation is still the live one. */
  coordinatorAlive(generation: number): boolean;
  /** Called once a request got its answer (for statistics and the trace). */
  onRangeReply?(group: string, op: string): void;
}

export class SimGroupLeaderClient extends GroupLeaderClient {
  constructor(
    private readonly bus: LeaderBus,
    private readonly generation: number,
    private readonly timing: { timeout_ticks: number; attemptTimeout_ticks: number },
  ) {
    // The transport is never used: send is replaced below.
    super(undefined as unknown as Transport, new Subjects('sim'));
  }

  override async send<Reply extends ShardReplyHeader>(
    group: string,
    request: RangeRequest | Omit<RangeRequest, 'ringVersion'>,
    ringVersion = 0,
  ): Promise<Reply> {
    const bus = this.bus;
    const deadline = bus.now + this.timing.timeout_ticks;
    let backoff_ticks = 2;
    for (;;) {
      this.checkAlive();
      try {
        const node = bus.leaderOf(group);
        if (node === undefined) throw new ShardkvError('NO_LEADER', `no leader of ${group}`);
        const reply = await bus.request(node, (target) => serveRange(target, { ...request, ringVersion } as RangeRequest),
          Math.max(1, Math.min(this.timing.attemptTimeout_ticks, deadline - bus.now)));
        this.checkAlive();
        bus.onRangeReply?.(group, request.op);
        return reply as Reply;
      } catch (err) {
        if (err instanceof CoordinatorGone) throw err;
        if (!(err instanceof ShardkvError) || !RETRYABLE.has(err.code) || bus.now + backoff_ticks >= deadline) throw err;
        this.checkAlive();
        await bus.sleep(backoff_ticks);
        backoff_ticks = Math.min(backoff_ticks * 2, 50);
      }
    }
  }

  private checkAlive(): void {
    if (!this.bus.coordinatorAlive(this.generation)) throw new CoordinatorGone(`coordinator generation ${this.generation} is gone`);
  }
}

/** ShardReplica.serveLeader for the rebalance ops: only the leader answers, RangeOps serves. */
async function serveRange(node: GroupNode, request: RangeRequest): Promise<unknown> {
  if (!node.leading) throw new ShardkvError('NOT_LEADER', `this replica of ${node.group.name} is not the leader`);
  return node.rangeOps.serve(request);
}
