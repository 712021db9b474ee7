/**
 * The simulated network: every message gets a random delay (so messages reorder), may be dropped
 * or duplicated, and never crosses a partition. Messages are packed with msgpack on send and
 * unpacked on delivery, as the real transport would, so no object is shared between peers.
 */
import { Packr } from 'msgpackr';
import type { ZabMessage } from '../../zab/messages.js';
import type { Prng } from '../../zab/prng.js';

export interface NetworkFaults {
  dropProbability: number;
  duplicateProbability: number;
  maxDelayTicks: number;
  /** Chance that a message takes a slow path: up to `slowDelayTicks` late, arriving after later traffic, even after elections. */
  slowProbability: number;
  slowDelayTicks: number;
}

interface InFlight {
  deliverAtTick: number;
  sequence: number;
  from: number;
  to: number;
  bytes: Uint8Array;
}

const packr = new Packr({ useRecords: false, moreTypes: false });

export class SimNetwork {
  private inFlight: InFlight[] = [];
  private sequence = 0;
  /** Partition side of each node; nodes on different sides cannot talk. Empty = healed. */
  private side = new Map<number, number>();
  sent = 0;
  dropped = 0;

  constructor(private readonly prng: Prng, public faults: NetworkFaults) {}

  partition(groups: number[][]): void {
    this.side = new Map();
    groups.forEach((group, index) => group.forEach((id) => this.side.set(id, index)));
  }

  heal(): void {
    this.side = new Map();
  }

  connected(a: number, b: number): boolean {
    return (this.side.get(a) ?? 0) === (this.side.get(b) ?? 0);
  }

  send(now: number, from: number, to: number, message: ZabMessage): void {
    this.sent += 1;
    if (!this.connected(from, to) || this.prng.chance(this.faults.dropProbability)) {
      this.dropped += 1;
      return;
    }
    const bytes = packr.pack(message);
    const copies = this.prng.chance(this.faults.duplicateProbability) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.prng.chance(this.faults.slowProbability)
        ? this.prng.intBetween(0, this.faults.slowDelayTicks)
        : this.prng.intBetween(0, this.faults.maxDelayTicks);
      this.inFlight.push({ deliverAtTick: now + delay, sequence: this.sequence++, from, to, bytes });
    }
  }

  /** Puts a due message back, to arrive at `tick` (its receiver is paused). */
  deliverLater(tick: number, delivery: { from: number; to: number; message: ZabMessage }): void {
    this.inFlight.push({ deliverAtTick: tick, sequence: this.sequence++, from: delivery.from, to: delivery.to, bytes: packr.pack(delivery.message) });
  }

  /** Removes and returns the messages due by `now`, in delivery order. A partition drops them at delivery too. */
  due(now: number): Array<{ from: number; to: number; message: ZabMessage }> {
    const ready: InFlight[] = [];
    const later: InFlight[] = [];
    for (const item of this.inFlight) (item.deliverAtTick <= now ? ready : later).push(item);
    this.inFlight = later;
    ready.sort((a, b) => a.deliverAtTick - b.deliverAtTick || a.sequence - b.sequence);
    const out: Array<{ from: number; to: number; message: ZabMessage }> = [];
    for (const item of ready) {
      if (!this.connected(item.from, item.to)) {
        this.dropped += 1;
        continue;
      }
      out.push({ from: item.from, to: item.to, message: packr.unpack(item.bytes) as ZabMessage });
    }
    return out;
  }

  get pending(): number {
    return this.inFlight.length;
  }
}
