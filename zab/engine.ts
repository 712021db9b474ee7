/**
 * ZabEngine: a pure ZAB peer in the shape of etcd raft's RawNode. The driver feeds it peer
 * messages (`step`), client proposals (`propose`), linearizable read requests (`requestRead`),
 * clock ticks (`tick`) and durability news (`persisted`); it takes the engine's output with
 * `ready()`, carries it out (see ready.ts for the order) and calls `advance()`. The engine does
 * no I/O, reads no clock and draws randomness only from the seeded generator it was given.
 */
import { invariant } from '../errors/codes.js';
import { EngineCore, type ZabConfig } from './core.js';
import { Election } from './election.js';
import { Follower } from './follower.js';
import { Leader } from './leader.js';
import type { Vote, VoteMessage, ZabMessage } from './messages.js';
import type { Ready, Role } from './ready.js';

export type { ZabConfig, RecoveredState, StateSnapshot } from './core.js';
export type { Ready, Role, RoleChange, PersistentEpochs } from './ready.js';

export interface EngineStatus {
  id: number;
  role: Role;
  /** The leader followed or this peer when leading; undefined while looking. */
  leader?: number;
  /** True for a leader with a synced quorum, a follower that finished its sync. */
  established: boolean;
  /** Leader: the epoch it leads; follower: its leader's epoch once known. */
  epoch: number;
  acceptedEpoch: number;
  currentEpoch: number;
  lastZxid: number;
  durableZxid: number;
  commitZxid: number;
  appliedZxid: number;
  electionRound: number;
}

export class ZabEngine {
  private readonly core: EngineCore;
  private readonly election: Election;
  private leader: Leader | undefined;
  private follower: Follower | undefined;
  private electionDeadlineTick = 0;
  /** A quorum agreed on this leader; act on it at decideAtTick unless a better vote arrives first. */
  private pendingLeader: number | undefined;
  private decideAtTick = 0;
  private lastVoteTick = 0;
  /** The Ready handed out and not yet advanced. */
  private inFlight: { ready: Ready; deliveredZxid: number } | undefined;

  constructor(config: ZabConfig) {
    this.core = new EngineCore(config);
    this.election = new Election(this.core.id, this.core.quorum, this.selfVote());
    this.lookForLeader('start');
  }

  get role(): Role {
    if (this.leader !== undefined) return 'leading';
    return this.follower !== undefined ? 'following' : 'looking';
  }

  status(): EngineStatus {
    const core = this.core;
    const leaderId = this.leader !== undefined ? core.id : this.follower?.leader;
    return {
      id: core.id,
      role: this.role,
      ...(leaderId !== undefined ? { leader: leaderId } : {}),
      established: this.leader?.established ?? this.follower?.phase === 'broadcast',
      epoch: this.leader?.epoch ?? this.follower?.epoch ?? 0,
      acceptedEpoch: core.epochs.acceptedEpoch,
      currentEpoch: core.epochs.currentEpoch,
      lastZxid: core.log.lastZxid,
      durableZxid: core.durableZxid,
      commitZxid: core.commitZxid,
      appliedZxid: core.appliedZxid,
      electionRound: this.election.round,
    };
  }

  tick(): void {
    this.assertNoReadyInFlight();
    const core = this.core;
    core.now += 1;
    if (this.leader !== undefined) this.leader.tick();
    else if (this.follower !== undefined) this.follower.tick();
    else if (this.pendingLeader !== undefined && core.now >= this.decideAtTick) this.decide(this.pendingLeader);
    else if (core.now >= this.electionDeadlineTick) this.lookForLeader('election undecided');
    else if (core.now - this.lastVoteTick >= core.timing.heartbeatTicks) this.broadcastVote();
  }

  step(message: ZabMessage): void {
    this.assertNoReadyInFlight();
    if (message.from === this.core.id || !this.core.members.includes(message.from)) return;
    if (message.type === 'VOTE') this.receiveVote(message);
    else if (this.leader !== undefined) this.leader.receive(message);
    else if (this.follower !== undefined) this.follower.receive(message);
  }

  /**
   * Proposes a transaction. Returns its zxid, or undefined when this peer is not an established
   * leader; then the Ready reports the failure as NOT_LEADER under `tag`. A proposal accepted
   * here commits later (Ready.committed) or, if leadership is lost first, has an unknown outcome.
   */
  propose(payload: Uint8Array, tag = 0): number | undefined {
    this.assertNoReadyInFlight();
    const zxid = this.leader?.propose(payload);
    if (zxid === undefined) this.core.out.pending.proposalsFailed.push({ tag, code: 'NOT_LEADER', ...this.leaderHint() });
    return zxid;
  }

  /** Asks for a linearizable read; answered in Ready.readsConfirmed or Ready.readsFailed. */
  requestRead(readId: number): void {
    this.assertNoReadyInFlight();
    if (this.leader?.requestRead(readId) !== true) {
      this.core.out.pending.readsFailed.push({ readId, code: 'NOT_LEADER', ...this.leaderHint() });
    }
  }

  /** The driver's log is durable through `zxid` (FIFO: every earlier truncate and append too). */
  persisted(zxid: number): void {
    this.core.persisted(zxid);
    this.progress();
  }

  hasReady(): boolean {
    this.leader?.flush();
    return !this.core.out.isEmpty();
  }

  ready(): Ready {
    this.assertNoReadyInFlight();
    this.leader?.flush();
    const ready = this.core.out.take();
    this.inFlight = { ready, deliveredZxid: this.core.deliveredZxid };
    return ready;
  }

  advance(): void {
    invariant(this.inFlight !== undefined, 'advance() without a ready()');
    const { ready, deliveredZxid } = this.inFlight;
    this.inFlight = undefined;
    this.core.advanced(ready.epochs, deliveredZxid);
    this.progress();
  }

  private progress(): void {
    if (this.leader !== undefined) this.leader.onProgress();
    else if (this.follower?.phase === 'broadcast') this.follower.onProgress();
  }

  private assertNoReadyInFlight(): void {
    invariant(this.inFlight === undefined, 'the driver must advance() the last Ready before feeding the engine');
  }

  private leaderHint(): { leader?: number } {
    const leader = this.follower?.leader;
    return leader !== undefined ? { leader } : {};
  }

  private selfVote(): Vote {
    return { leader: this.core.id, epoch: this.core.epochs.currentEpoch, zxid: this.core.log.lastZxid };
  }

  private lookForLeader(reason: string): void {
    const core = this.core;
    if (this.leader !== undefined) {
      for (const readId of this.leader.abandonReads()) core.out.pending.readsFailed.push({ readId, code: 'NOT_LEADER' });
    }
    this.leader = undefined;
    this.follower = undefined;
    core.out.pending.roles.push({ role: 'looking', reason });
    this.election.restart(this.selfVote());
    const timeout = core.timing.electionTimeoutTicks;
    this.electionDeadlineTick = core.now + core.prng.intBetween(timeout, 2 * timeout - 1);
    this.pendingLeader = undefined;
    if (this.election.decideAlone().leader !== undefined) {
      this.becomeLeader();
      return;
    }
    this.broadcastVote();
  }

  private broadcastVote(): void {
    this.lastVoteTick = this.core.now;
    this.core.broadcast(this.voteMessage());
  }

  private voteMessage(): VoteMessage {
    const core = this.core;
    if (this.leader !== undefined) {
      return { type: 'VOTE', from: core.id, round: this.election.round, state: 'LEADING', vote: { leader: core.id, epoch: this.leader.epoch, zxid: 0 } };
    }
    if (this.follower !== undefined) {
      return { type: 'VOTE', from: core.id, round: this.election.round, state: 'FOLLOWING', vote: { leader: this.follower.leader, epoch: this.follower.epoch, zxid: 0 } };
    }
    return { type: 'VOTE', from: core.id, round: this.election.round, state: 'LOOKING', vote: this.election.vote };
  }

  private receiveVote(message: VoteMessage): void {
    if (this.role !== 'looking') {
      // Tell a looking peer whom we follow or lead, so it can join.
      if (message.state === 'LOOKING') this.core.send(message.from, this.voteMessage());
      return;
    }
    const step = this.election.receive(message, this.selfVote());
    if (step.broadcast) this.broadcastVote();
    if (step.replyTo !== undefined) this.core.send(step.replyTo, this.voteMessage());
    if (step.leader !== undefined && step.final === true) {
      this.decide(step.leader);
    } else if (step.leader !== this.pendingLeader) {
      this.pendingLeader = step.leader;
      this.decideAtTick = this.core.now + 1;
    }
  }

  private decide(leader: number): void {
    this.pendingLeader = undefined;
    if (leader === this.core.id) this.becomeLeader();
    else this.becomeFollower(leader);
  }

  private becomeLeader(): void {
    this.follower = undefined;
    this.leader = new Leader(this.core, (reason) => this.lookForLeader(reason));
    this.core.out.pending.roles.push({ role: 'leading', leader: this.core.id });
    this.leader.start();
  }

  private becomeFollower(leader: number): void {
    this.leader = undefined;
    this.follower = new Follower(this.core, leader, (reason) => this.lookForLeader(reason));
    this.core.out.pending.roles.push({ role: 'following', leader });
    this.follower.start();
  }
}
