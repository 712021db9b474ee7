/**
 * Fast leader election (ZooKeeper's FastLeaderElection, simplified). A LOOKING peer votes for the
 * best candidate it has heard of, by (currentEpoch, lastZxid, id), and re-broadcasts when its vote
 * changes. It decides when a quorum of the current round votes like it. A LOOKING peer also joins
 * an existing leader when the leader itself and a quorum of peers report it (out of election).
 */
import type { PeerState, Vote, VoteMessage } from './messages.js';

/** Positive when a is the better candidate. */
export function compareVotes(a: Vote, b: Vote): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  if (a.zxid !== b.zxid) return a.zxid - b.zxid;
  return a.leader - b.leader;
}

function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.epoch === b.epoch && a.zxid === b.zxid;
}

/**
 * `broadcast` when our vote changed; `replyTo` a peer a round behind; `leader` when a quorum agrees:
 * `final` when it comes from an established ensemble (join at once), otherwise the engine waits a
 * tick for a better vote before acting on it (ZooKeeper's finalizeWait).
 */
export interface ElectionStep {
  broadcast: boolean;
  replyTo?: number;
  leader?: number;
  final?: boolean;
}

export class Election {
  round = 0;
  vote: Vote;
  private readonly votes = new Map<number, Vote>();
  private readonly claims = new Map<number, { leader: number; state: PeerState; round: number }>();

  constructor(private readonly selfId: number, private readonly quorum: number, self: Vote) {
    this.vote = self;
  }

  /** A new round with a vote for ourselves. */
  restart(self: Vote): void {
    this.round += 1;
    this.vote = self;
    this.votes.clear();
    this.claims.clear();
  }

  /** The round's outcome when the peer already has a quorum by itself (single-node ensemble). */
  decideAlone(): ElectionStep {
    return this.quorum <= 1 ? { broadcast: false, leader: this.vote.leader, final: true } : { broadcast: true };
  }

  receive(message: VoteMessage, self: Vote): ElectionStep {
    if (message.state !== 'LOOKING') return this.receiveClaim(message, self);
    if (message.round > this.round) {
      this.round = message.round;
      this.votes.clear();
      this.vote = compareVotes(message.vote, self) > 0 ? message.vote : self;
      this.votes.set(message.from, message.vote);
      return this.tally(true);
    }
    if (message.round < this.round) return { broadcast: false, replyTo: message.from };
    let changed = false;
    if (compareVotes(message.vote, this.vote) > 0) {
      this.vote = message.vote;
      changed = true;
    }
    this.votes.set(message.from, message.vote);
    return this.tally(changed);
  }

  private tally(changed: boolean): ElectionStep {
    let agreeing = 1;
    for (const vote of this.votes.values()) if (sameVote(vote, this.vote)) agreeing += 1;
    return agreeing >= this.quorum ? { broadcast: changed, leader: this.vote.leader } : { broadcast: changed };
  }

  /**
   * A FOLLOWING/LEADING peer told us whom it follows. Join that leader when it says it leads and a
   * quorum agrees; or lead ourselves when a quorum of this round already follows us.
   */
  private receiveClaim(message: VoteMessage, self: Vote): ElectionStep {
    this.claims.set(message.from, { leader: message.vote.leader, state: message.state, round: message.round });
    const leader = message.vote.leader;
    if (leader === this.selfId) {
      if (message.round !== this.round || !sameVote(this.vote, self)) return { broadcast: false };
      let agreeing = 1;
      for (const claim of this.claims.values()) if (claim.leader === this.selfId && claim.round === this.round) agreeing += 1;
      return agreeing >= this.quorum ? { broadcast: false, leader: this.selfId, final: true } : { broadcast: false };
    }
    if (this.claims.get(leader)?.state !== 'LEADING') return { broadcast: false };
    let agreeing = 0;
    for (const claim of this.claims.values()) if (claim.leader === leader) agreeing += 1;
    return agreeing >= this.quorum ? { broadcast: false, leader, final: true } : { broadcast: false };
  }
}
