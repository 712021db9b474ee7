/**
 * The leader role: discovery (FOLLOWERINFO -> epoch -> LEADERINFO -> ACKEPOCH from a quorum),
 * synchronisation (NEWLEADER with DIFF/TRUNC/SNAP per follower; established once a quorum has
 * the history durable under the new epoch, which commits it), then broadcast (PROPOSAL, ACK,
 * COMMIT), heartbeats, quorum-loss step-down, and linearizable read rounds.
 */
import { invariant } from '../errors/codes.js';
import type { EngineCore } from './core.js';
import type { AckEpochMessage, LogRecord, ZabMessage } from './messages.js';
import { planSync } from './sync-plan.js';
import { MAX_EPOCH, formatZxid, nextOwnedEpoch, nextZxid } from './zxid.js';

type Stage =
  | 'info' // FOLLOWERINFO received, epoch not chosen yet
  | 'epoch-sent' // LEADERINFO sent
  | 'epoch-acked' // ACKEPOCH received, waiting for a quorum of them
  | 'syncing' // NEWLEADER sent
  | 'active'; // NEWLEADER acknowledged: its ACKs count

interface FollowerLink {
  session: number;
  stage: Stage;
  acceptedEpoch: number;
  ackEpoch?: AckEpochMessage;
  newLeaderLastZxid: number;
  ackZxid: number;
  ackAtLastHeartbeat: number;
  lastHeardTick: number;
  readRound: number;
}

interface PendingRead {
  readId: number;
  readIndex: number;
  round: number;
}

export type Phase = 'discovery' | 'sync' | 'established';

export class Leader {
  phase: Phase = 'discovery';
  epoch = 0;
  private readonly links = new Map<number, FollowerLink>();
  /** This peer's election credentials, frozen at the start: no follower in the quorum may be ahead. */
  private readonly credentials: { epoch: number; zxid: number };
  private initialLastZxid = 0;
  private readonly setupDeadlineTick: number;
  private lastHeartbeatTick: number;
  private unsentProposals: LogRecord[] = [];
  private commitChanged = false;
  private readRound = 0;
  private confirmedReadRound = 0;
  private reads: PendingRead[] = [];

  constructor(private readonly core: EngineCore, private readonly stepDown: (reason: string) => void) {
    this.credentials = { epoch: core.epochs.currentEpoch, zxid: core.log.lastZxid };
    this.setupDeadlineTick = core.now + core.timing.setupTimeoutTicks;
    this.lastHeartbeatTick = core.now;
  }

  start(): void {
    this.maybeChooseEpoch();
  }

  get established(): boolean {
    return this.phase === 'established';
  }

  receive(message: ZabMessage): void {
    switch (message.type) {
      case 'FOLLOWERINFO': {
        const existing = this.links.get(message.from);
        if (existing !== undefined && existing.session === message.session) {
          existing.lastHeardTick = this.core.now;
          if (existing.stage === 'epoch-sent') this.sendLeaderInfo(message.from, existing);
          return;
        }
        if (this.epoch !== 0 && message.acceptedEpoch > this.epoch) {
          // It promised a later epoch and can never join this one: make way for an election
          // that picks an epoch above every promise.
          this.stepDown(`member ${message.from} promised epoch ${message.acceptedEpoch} > ${this.epoch}`);
          return;
        }
        const link: FollowerLink = {
          session: message.session, stage: 'info', acceptedEpoch: message.acceptedEpoch,
          newLeaderLastZxid: 0, ackZxid: 0, ackAtLastHeartbeat: 0, lastHeardTick: this.core.now, readRound: 0,
        };
        this.links.set(message.from, link);
        if (this.epoch === 0) this.maybeChooseEpoch();
        else this.sendLeaderInfo(message.from, link);
        return;
      }
      case 'ACKEPOCH': {
        const link = this.linkFor(message.from, message.session);
        if (link === undefined || link.stage === 'info' || link.stage === 'active' || message.epoch !== this.epoch) return;
        if (this.phase !== 'established' && this.isAhead(message)) {
          this.stepDown(`follower ${message.from} is ahead (epoch ${message.currentEpoch}, ${formatZxid(message.lastZxid)})`);
          return;
        }
        link.ackEpoch = message;
        if (link.stage === 'epoch-sent') link.stage = 'epoch-acked';
        if (this.phase === 'discovery') this.maybeStartSync();
        else this.sendNewLeader(message.from, link);
        return;
      }
      case 'ACK':
        if (message.epoch === this.epoch) this.receiveAck(message.from, message.session, message.zxid);
        return;
      case 'PONG': {
        if (message.epoch !== this.epoch) return;
        const link = this.linkFor(message.from, message.session);
        if (link === undefined) return;
        if (message.readRound > link.readRound) link.readRound = message.readRound;
        if (message.ackZxid !== undefined) this.receiveAck(message.from, message.session, message.ackZxid);
        this.checkReadRound();
        return;
      }
      default:
        return; // messages for followers, or from a rival leader: ignored
    }
  }

  tick(): void {
    const now = this.core.now;
    if (this.phase !== 'established') {
      if (now >= this.setupDeadlineTick) {
        this.stepDown('not established before the setup deadline');
        return;
      }
    } else if (!this.heardFromQuorum()) {
      this.stepDown('lost contact with a quorum');
      return;
    }
    if (now - this.lastHeartbeatTick >= this.core.timing.heartbeatTicks) this.heartbeat();
  }

  propose(payload: Uint8Array): number | undefined {
    if (this.phase !== 'established') return undefined;
    const zxid = nextZxid(this.core.log.lastZxid, this.epoch);
    const record: LogRecord = { zxid, payload };
    this.core.append(record);
    this.unsentProposals.push(record);
    return zxid;
  }

  /** Queues a read; false when this leader cannot serve reads (not established). */
  requestRead(readId: number): boolean {
    if (this.phase !== 'established') return false;
    // The round starts at the next flush: every read requested before the Ready shares it.
    this.reads.push({ readId, readIndex: this.core.commitZxid, round: 0 });
    return true;
  }

  /** Reads that can no longer be answered here (stepping down). */
  abandonReads(): number[] {
    const ids = this.reads.map((read) => read.readId);
    this.reads = [];
    return ids;
  }

  /** The driver made something durable or applied something. */
  onProgress(): void {
    if (this.phase === 'sync') this.maybeEstablish();
    else if (this.phase === 'established') this.advanceCommit();
  }

  /** Puts the proposals, commit point and read round of this step into the Ready (one message per follower). */
  flush(): void {
    if (this.confirmedReadRound === this.readRound && this.reads.some((read) => read.round === 0)) this.startReadRound();
    if (this.unsentProposals.length > 0) {
      for (const [peer, link] of this.links) {
        if (link.stage !== 'syncing' && link.stage !== 'active') continue;
        const records = this.unsentProposals.filter((record) => record.zxid > link.newLeaderLastZxid);
        if (records.length > 0) this.core.send(peer, { type: 'PROPOSAL', from: this.core.id, epoch: this.epoch, records });
      }
      this.unsentProposals = [];
    }
    if (this.commitChanged) {
      this.commitChanged = false;
      for (const [peer, link] of this.links) {
        if (link.stage === 'active' || link.stage === 'syncing') {
          this.core.send(peer, { type: 'COMMIT', from: this.core.id, epoch: this.epoch, zxid: this.core.commitZxid });
        }
      }
    }
  }

  private linkFor(peer: number, session: number): FollowerLink | undefined {
    const link = this.links.get(peer);
    if (link === undefined || link.session !== session) return undefined;
    link.lastHeardTick = this.core.now;
    return link;
  }

  private isAhead(message: AckEpochMessage): boolean {
    if (message.currentEpoch !== this.credentials.epoch) return message.currentEpoch > this.credentials.epoch;
    return message.lastZxid > this.credentials.zxid;
  }

  private maybeChooseEpoch(): void {
    if (this.epoch !== 0) return;
    let infos = 1;
    let highest = this.core.epochs.acceptedEpoch;
    for (const link of this.links.values()) {
      infos += 1;
      if (link.acceptedEpoch > highest) highest = link.acceptedEpoch;
    }
    if (infos < this.core.quorum) return;
    const epoch = nextOwnedEpoch(highest, this.core.id, this.core.members);
    invariant(epoch <= MAX_EPOCH, 'epoch space exhausted');
    invariant(epoch > this.core.epochs.acceptedEpoch, 'a leader must choose an epoch it has not promised');
    this.epoch = epoch;
    this.core.setEpochs({ acceptedEpoch: epoch });
    for (const [peer, link] of this.links) this.sendLeaderInfo(peer, link);
    this.maybeStartSync();
  }

  private sendLeaderInfo(peer: number, link: FollowerLink): void {
    if (link.acceptedEpoch > this.epoch) return;
    link.stage = 'epoch-sent';
    this.core.send(peer, { type: 'LEADERINFO', from: this.core.id, session: link.session, epoch: this.epoch });
  }

  private maybeStartSync(): void {
    if (this.phase !== 'discovery' || this.epoch === 0) return;
    let acked = 1;
    for (const link of this.links.values()) if (link.stage === 'epoch-acked') acked += 1;
    if (acked < this.core.quorum) return;
    this.phase = 'sync';
    this.initialLastZxid = this.core.log.lastZxid;
    for (const [peer, link] of this.links) if (link.stage === 'epoch-acked') this.sendNewLeader(peer, link);
    this.maybeEstablish();
  }

  private sendNewLeader(peer: number, link: FollowerLink): void {
    const history = link.ackEpoch;
    invariant(history !== undefined, 'NEWLEADER before ACKEPOCH');
    const core = this.core;
    const plan = planSync(core.log, history);
    let records: LogRecord[];
    let snapshot: { zxid: number; data: Uint8Array } | undefined;
    if (plan.mode === 'SNAP') {
      snapshot = core.stateSnapshot();
      invariant(snapshot.zxid === core.appliedZxid,
        `state snapshot at ${formatZxid(snapshot.zxid)}, engine applied ${formatZxid(core.appliedZxid)}`);
      records = core.log.between(snapshot.zxid, core.log.lastZxid);
    } else {
      records = core.log.between(plan.from, core.log.lastZxid);
    }
    link.stage = 'syncing';
    link.newLeaderLastZxid = core.log.lastZxid;
    link.ackZxid = 0;
    core.send(peer, {
      type: 'NEWLEADER', from: core.id, session: link.session, epoch: this.epoch, mode: plan.mode,
      ...(plan.mode === 'TRUNC' ? { truncateAfter: plan.from } : {}),
      ...(snapshot !== undefined ? { snapshot } : {}),
      records, commitZxid: core.commitZxid,
    });
  }

  private receiveAck(peer: number, session: number, zxid: number): void {
    const link = this.linkFor(peer, session);
    if (link === undefined || (link.stage !== 'syncing' && link.stage !== 'active')) return;
    if (zxid > this.core.log.lastZxid) invariant(false, `follower ${peer} acknowledged ${formatZxid(zxid)} beyond the leader's log`);
    // A follower acknowledges only once it applied a NEWLEADER of this session and has it durable
    // (whichever copy arrived first, if we sent it twice): any ACK makes it active.
    if (link.stage === 'syncing') link.stage = 'active';
    if (zxid > link.ackZxid) link.ackZxid = zxid;
    this.onProgress();
  }

  private maybeEstablish(): void {
    const core = this.core;
    // As for followers: currentEpoch is written only after the history it vouches for is durable.
    if (core.epochs.currentEpoch !== this.epoch && core.durableZxid >= this.initialLastZxid) {
      core.setEpochs({ currentEpoch: this.epoch });
    }
    if (core.durableEpochs.currentEpoch !== this.epoch) return;
    let synced = 1;
    for (const link of this.links.values()) if (link.stage === 'active') synced += 1;
    if (synced < core.quorum) return;
    this.phase = 'established';
    // A quorum holds this history durably under the new epoch: all of it is committed.
    core.commitThrough(this.initialLastZxid);
    this.commitChanged = true;
    core.out.pending.roles.push({ role: 'leading', leader: core.id, epoch: this.epoch });
    this.advanceCommit();
  }

  /** The highest zxid a quorum (this leader's durable log included) has durable. */
  private advanceCommit(): void {
    const core = this.core;
    const acks = [core.durableZxid];
    for (const link of this.links.values()) if (link.stage === 'active') acks.push(link.ackZxid);
    if (acks.length < core.quorum) return;
    acks.sort((a, b) => b - a);
    const quorumZxid = Math.min(acks[core.quorum - 1]!, core.log.lastZxid);
    if (quorumZxid <= core.commitZxid) {
      this.releaseReads();
      return;
    }
    invariant(quorumZxid >= this.initialLastZxid, 'commit below the established history');
    core.commitThrough(quorumZxid);
    this.commitChanged = true;
    this.releaseReads();
  }

  /** This leader and the synced followers it heard from within the leader timeout make a quorum. */
  private heardFromQuorum(): boolean {
    let heard = 1;
    for (const link of this.links.values()) {
      if (link.stage === 'active' && this.core.now - link.lastHeardTick <= this.core.timing.leaderTimeoutTicks) heard += 1;
    }
    return heard >= this.core.quorum;
  }

  private heartbeat(): void {
    const core = this.core;
    this.lastHeartbeatTick = core.now;
    for (const [peer, link] of this.links) {
      if (link.stage !== 'syncing' && link.stage !== 'active') continue;
      core.send(peer, { type: 'PING', from: core.id, epoch: this.epoch, commitZxid: core.commitZxid, readRound: this.readRound });
      if (link.stage === 'active') this.retransmit(peer, link);
    }
  }

  /** A follower whose ACK did not move since the last heartbeat missed proposals: send them again. */
  private retransmit(peer: number, link: FollowerLink): void {
    const core = this.core;
    const stalled = link.ackZxid < core.log.lastZxid && link.ackZxid === link.ackAtLastHeartbeat;
    link.ackAtLastHeartbeat = link.ackZxid;
    if (!stalled) return;
    if (link.ackZxid < core.log.base) {
      // The missing records left the window: the follower must join again and get a SNAP.
      this.links.delete(peer);
      core.send(peer, { type: 'RESYNC', from: core.id, epoch: this.epoch });
      return;
    }
    const records = core.log.between(link.ackZxid, core.log.lastZxid, core.timing.retransmitBatchRecords);
    if (records.length > 0) core.send(peer, { type: 'PROPOSAL', from: core.id, epoch: this.epoch, records });
  }

  private startReadRound(): void {
    this.readRound += 1;
    for (const read of this.reads) if (read.round === 0) read.round = this.readRound;
    for (const [peer, link] of this.links) {
      if (link.stage !== 'active') continue;
      this.core.send(peer, { type: 'PING', from: this.core.id, epoch: this.epoch, commitZxid: this.core.commitZxid, readRound: this.readRound });
    }
    this.checkReadRound();
  }

  /** A round is confirmed when a quorum answered a PING sent after the round's reads arrived. */
  private checkReadRound(): void {
    if (this.confirmedReadRound === this.readRound) return;
    let answered = 1;
    for (const link of this.links.values()) if (link.stage === 'active' && link.readRound >= this.readRound) answered += 1;
    if (answered < this.core.quorum) return;
    this.confirmedReadRound = this.readRound;
    this.releaseReads();
    if (this.reads.some((read) => read.round === 0)) this.startReadRound();
  }

  /** Confirmed reads are answered once the state machine has applied their read index. */
  private releaseReads(): void {
    if (this.reads.length === 0) return;
    const waiting: PendingRead[] = [];
    for (const read of this.reads) {
      const confirmed = read.round !== 0 && read.round <= this.confirmedReadRound;
      if (confirmed && this.core.deliveredZxid >= read.readIndex) this.core.out.pending.readsConfirmed.push(read.readId);
      else waiting.push(read);
    }
    this.reads = waiting;
  }
}
