/**
 * Whether data-plane sessions are open. A session lives on the group that owns its placement
 * key (sessionPlacementKey); other groups ask that group's leader, batching the ids per owner.
 *
 * Our ring may lag (a new leader, a slow watch). Where a fence of ours still refuses, the ring
 * that moved the range on exists in meta: ownership is read from it, after a refresh. A session
 * whose range is moving right now (fenced, the new ring not yet committed) has no deciding group
 * and counts as open.
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
  /** The ring version of a fence of ours that still refuses the session's placement, if any. */
  fencedUntil: (sessionId: number) => number | undefined;
  timeout_ms?: number;
}

export class SessionLiveness {
  constructor(private readonly options: SessionLivenessOptions) {}

  /** The group deciding for the session, or undefined while its range is moving (see above). */
  async ownerOf(sessionId: number): Promise<string | undefined> {
    const fencedUntil = this.options.fencedUntil(sessionId);
    const ring = fencedUntil === undefined ? this.options.ring.ring : await this.options.ring.atLeast(fencedUntil);
    if (fencedUntil !== undefined && ring.version < fencedUntil) return undefined;
    return ring.ownerOf(sessionPlacementKey(sessionId));
  }

  async isOpen(sessionId: number): Promise<boolean> {
    return (await this.closedAmong([sessionId])).length === 0;
  }

  /** The sessions among `sessionIds` that their owners report closed. */
  async closedAmong(sessionIds: number[]): Promise<number[]> {
    const byOwner = new Map<string, number[]>();
    for (const sessionId of sessionIds) {
      const owner = await this.ownerOf(sessionId);
      if (owner !== undefined) byOwner.set(owner, [...(byOwner.get(owner) ?? []), sessionId]);
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
