/**
 * The follower role: join the elected leader (FOLLOWERINFO, accept its epoch, ACKEPOCH), take its
 * synchronisation (DIFF / TRUNC / SNAP inside NEWLEADER), then log proposals in zxid order, ACK
 * what is durable, apply what the leader commits, and answer heartbeats. It starts an election
 * when the leader goes silent. Messages from any other peer, epoch or session are ignored.
 */
import { invariant } from '../errors/codes.js';
import type { EngineCore } from './core.js';
import type { NewLeaderMessage, ZabMessage } from './messages.js';
import { epochOwner, formatZxid, nextZxid } from './zxid.js';

export type FollowerPhase = 'discovering' | 'syncing' | 'broadcast';

export class Follower {
  phase: FollowerPhase = 'discovering';
  /** The leader's epoch, known from LEADERINFO on. */
  epoch = 0;
  private session = 0;
  private newLeaderLastZxid = 0;
  private lastAckSent = -1;
  private lastHeardTick: number;
  private lastSentTick: number;

  constructor(
    private readonly core: EngineCore,
    readonly leader: number,
    private readonly lookAgain: (reason: string) => void,
  ) {
    this.lastHeardTick = core.now;
    this.lastSentTick = core.now;
  }

  /** Starts (or restarts) joining the leader with a fresh session. */
  start(): void {
    this.phase = 'discovering';
    this.epoch = 0;
    this.session = this.core.prng.nextU32();
    this.lastAckSent = -1;
    this.lastHeardTick = this.core.now;
    this.sendFollowerInfo();
  }

  receive(message: ZabMessage): void {
    if (message.from !== this.leader) return;
    switch (message.type) {
      case 'LEADERINFO': {
        if (message.session !== this.session || this.phase === 'broadcast') return;
        this.lastHeardTick = this.core.now;
        if (this.phase === 'syncing') {
          if (message.epoch === this.epoch) this.sendAckEpoch(); // our ACKEPOCH was lost or is late: repeat it
          if (message.epoch <= this.epoch) return;
          // The leader restarted its leadership with a new epoch: promise that one instead.
        }
        const accepted = this.core.epochs.acceptedEpoch;
        invariant(epochOwner(message.epoch, this.core.members) === this.leader, `epoch ${message.epoch} belongs to another leader than ${this.leader}`);
        // Epochs are owned (epoch mod ensemble size), so an equal epoch is a repeat from the same leader.
        if (message.epoch < accepted) {
          this.lookAgain(`refused epoch ${message.epoch}: promised ${accepted}`);
          return;
        }
        if (message.epoch > accepted) this.core.setEpochs({ acceptedEpoch: message.epoch });
        this.epoch = message.epoch;
        this.phase = 'syncing';
        this.sendAckEpoch();
        return;
      }
      case 'NEWLEADER':
        if (message.session !== this.session || this.phase !== 'syncing' || message.epoch !== this.epoch) return;
        this.lastHeardTick = this.core.now;
        this.applySync(message);
        return;
      case 'PROPOSAL': {
        if (message.epoch !== this.epoch || this.phase !== 'broadcast') return;
        this.lastHeardTick = this.core.now;
        for (const record of message.records) {
          const last = this.core.log.lastZxid;
          if (record.zxid <= last) continue; // duplicate
          if (record.zxid !== nextZxid(last, this.epoch)) break; // gap: the leader re-sends
          this.core.append(record);
        }
        return;
      }
      case 'COMMIT':
        if (message.epoch !== this.epoch || this.phase !== 'broadcast') return;
        this.lastHeardTick = this.core.now;
        this.core.commitThrough(message.zxid);
        return;
      case 'PING': {
        if (message.epoch !== this.epoch || this.phase === 'discovering') return;
        this.lastHeardTick = this.core.now;
        if (this.phase === 'broadcast') this.core.commitThrough(message.commitZxid);
        const ack = this.ackable();
        this.core.send(this.leader, {
          type: 'PONG', from: this.core.id, session: this.session, epoch: this.epoch, readRound: message.readRound,
          ...(ack !== undefined ? { ackZxid: ack } : {}),
        });
        return;
      }
      case 'RESYNC':
        if (message.epoch !== this.epoch || this.phase !== 'broadcast') return;
        this.start();
        return;
      default:
        return;
    }
  }

  tick(): void {
    const now = this.core.now;
    if (now - this.lastHeardTick > this.core.timing.electionTimeoutTicks) {
      this.lookAgain(`leader ${this.leader} silent for ${now - this.lastHeardTick} ticks`);
      return;
    }
    if (this.phase !== 'broadcast' && now - this.lastSentTick >= this.core.timing.heartbeatTicks) {
      if (this.phase === 'discovering') this.sendFollowerInfo();
      else this.sendAckEpoch();
    }
  }

  /** The driver made something durable (records or epochs): acknowledge it. */
  onProgress(): void {
    const core = this.core;
    // currentEpoch may be written only once the leader's history is durable here: a peer whose
    // currentEpoch says "synced with epoch e" must hold that history, or it could win an
    // election against a peer that holds a committed transaction it lacks.
    if (core.epochs.currentEpoch !== this.epoch && core.durableZxid >= this.newLeaderLastZxid) {
      core.setEpochs({ currentEpoch: this.epoch });
    }
    const ack = this.ackable();
    if (ack === undefined || ack <= this.lastAckSent) return;
    this.lastAckSent = ack;
    core.send(this.leader, { type: 'ACK', from: core.id, session: this.session, epoch: this.epoch, zxid: ack });
  }

  private applySync(message: NewLeaderMessage): void {
    const core = this.core;
    if (message.mode === 'SNAP') {
      invariant(message.snapshot !== undefined, 'SNAP without a snapshot');
      core.installSnapshot(message.snapshot);
    } else if (message.mode === 'TRUNC') {
      invariant(message.truncateAfter !== undefined, 'TRUNC without a point');
      core.truncateAfter(message.truncateAfter);
    }
    for (const record of message.records) {
      if (record.zxid <= core.log.lastZxid) {
        invariant(core.log.has(record.zxid), `sync record ${formatZxid(record.zxid)} conflicts with this log`);
        continue;
      }
      core.append(record);
    }
    this.newLeaderLastZxid = core.log.lastZxid;
    this.phase = 'broadcast';
    core.out.pending.roles.push({ role: 'following', leader: this.leader, epoch: this.epoch });
    core.commitThrough(message.commitZxid);
    this.onProgress();
  }

  /** The durable point this follower may acknowledge: only once it holds the leader's history under its epoch. */
  private ackable(): number | undefined {
    const core = this.core;
    if (this.phase !== 'broadcast' || core.durableEpochs.currentEpoch !== this.epoch) return undefined;
    return core.durableZxid >= this.newLeaderLastZxid ? core.durableZxid : undefined;
  }

  private sendFollowerInfo(): void {
    this.lastSentTick = this.core.now;
    this.core.send(this.leader, {
      type: 'FOLLOWERINFO', from: this.core.id, session: this.session, acceptedEpoch: this.core.epochs.acceptedEpoch,
    });
  }

  private sendAckEpoch(): void {
    const core = this.core;
    this.lastSentTick = core.now;
    core.send(this.leader, {
      type: 'ACKEPOCH', from: core.id, session: this.session, epoch: this.epoch, currentEpoch: core.epochs.currentEpoch,
      lastZxid: core.log.lastZxid, appliedZxid: core.deliveredZxid, epochLasts: core.log.epochLastsAfter(core.deliveredZxid),
    });
  }
}
