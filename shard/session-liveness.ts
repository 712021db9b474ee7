/**
 * Whether data-plane sessions are open. A session lives on the group that owns its placement
 * key (sessionPlacementKey); other groups ask that group's leader, batching the ids per owner.
 */
import { ShardkvError } from '../errors/codes.js';
import type { RingWatch } from '../meta/ring-watch.js';
import type { Subjects } from '../net/subjects.js';
import type { Transport } from '../net/transport.js';
import { sessionPlacementKey, type SessionsAliveReply } from '../protocol/shard.js';

export interface SessionLivenessOptions {
  group: string;
  transport: Transport;
  subjects: Subjects;
  ring: RingWatch;
  isOpenHere: (sessionId: number) => boolean;
  timeout_ms?: number;
}

export class SessionLiveness {
  constructor(private readonly options: SessionLivenessOptions) {}

  ownerOf(sessionId: number): string {
    return this.options.ring.ring.ownerOf(sessionPlacementKey(sessionId));
  }

  async isOpen(sessionId: number): Promise<boolean> {
    return (await this.closedAmong([sessionId])).length === 0;
  }

  /** The sessions among `sessionIds` that their owners report closed. */
  async closedAmong(sessionIds: number[]): Promise<number[]> {
    const byOwner = new Map<string, number[]>();
    for (const sessionId of sessionIds) {
      const owner = this.ownerOf(sessionId);
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), sessionId]);
    }
    const closed: number[] = [];
    for (const [owner, ids] of byOwner) {
      const alive = owner === this.options.group ? ids.filter((id) => this.options.isOpenHere(id)) : await this.askOwner(owner, ids);
      const open = new Set(alive);
      closed.push(...ids.filter((id) => !open.has(id)));
    }
    return closed;
  }

  private async askOwner(owner: string, sessionIds: number[]): Promise<number[]> {
    const ask = () => this.options.transport.request<SessionsAliveReply>(
      this.options.subjects.groupLeader(owner),
      { op: 'sessionsAlive', sessionIds, ringVersion: this.options.ring.ring.version },
      { timeout_ms: this.options.timeout_ms ?? 2_000, noRespondersCode: 'NO_LEADER' },
    );
    try {
      return (await ask()).alive;
    } catch (err) {
      // The owner may have a newer ring: refresh ours once and ask again.
      if (err instanceof ShardkvError && err.code === 'MOVED') {
        await this.options.ring.refresh();
        return (await ask()).alive;
      }
      throw err;
    }
  }
}
