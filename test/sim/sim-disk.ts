/**
 * A simulated disk for one replica. Epoch writes and snapshot installs are durable at once (the
 * driver does them synchronously); log truncates and appends queue up and become durable only
 * when a simulated fsync completes (group commit: one fsync covers what was queued when it
 * started). A crash keeps the durable state plus a random prefix of the queued writes, the last
 * append possibly torn (only some of its records survive).
 */
import type { LogRecord } from '../../zab/messages.js';
import type { Prng } from '../../zab/prng.js';
import type { PersistentEpochs } from '../../zab/ready.js';

type Write = { kind: 'truncate'; after: number } | { kind: 'append'; records: LogRecord[] };

export interface DurableState {
  epochs: PersistentEpochs;
  snapshot: { zxid: number; data: Uint8Array | undefined };
  records: LogRecord[];
}

export class SimDisk {
  durable: DurableState = {
    epochs: { acceptedEpoch: 0, currentEpoch: 0 },
    snapshot: { zxid: 0, data: undefined },
    records: [],
  };
  private queued: Write[] = [];
  private fsync: { completeAtTick: number; writes: number } | undefined;
  tornWrites = 0;

  constructor(private readonly prng: Prng, private readonly maxFsyncTicks: number) {}

  writeEpochs(epochs: PersistentEpochs): void {
    this.durable.epochs = { ...epochs };
  }

  installSnapshot(zxid: number, data: Uint8Array): void {
    this.durable.snapshot = { zxid, data };
    this.durable.records = [];
    this.queued = [];
    this.fsync = undefined;
  }

  /** A background state-machine snapshot: durable at once; the log before it is compacted. */
  saveSnapshot(zxid: number, data: Uint8Array): void {
    this.durable.snapshot = { zxid, data };
    this.durable.records = this.durable.records.filter((record) => record.zxid > zxid);
  }

  truncate(after: number): void {
    this.queued.push({ kind: 'truncate', after });
  }

  append(records: LogRecord[]): void {
    if (records.length > 0) this.queued.push({ kind: 'append', records });
  }

  /** Starts an fsync when none runs; returns the zxid now durable when one completed this tick. */
  tick(now: number): number | undefined {
    let completed: number | undefined;
    if (this.fsync !== undefined && now >= this.fsync.completeAtTick) {
      for (const write of this.queued.splice(0, this.fsync.writes)) this.apply(write);
      this.fsync = undefined;
      completed = this.lastZxid();
    }
    if (this.fsync === undefined && this.queued.length > 0) {
      this.fsync = { completeAtTick: now + this.prng.intBetween(1, this.maxFsyncTicks), writes: this.queued.length };
    }
    return completed;
  }

  crash(): void {
    const survive = this.prng.intBetween(0, this.queued.length);
    for (let i = 0; i < survive; i++) {
      const write = this.queued[i]!;
      if (i === survive - 1 && write.kind === 'append' && this.prng.chance(0.5)) {
        this.tornWrites += 1;
        this.apply({ kind: 'append', records: write.records.slice(0, this.prng.intBetween(0, write.records.length - 1)) });
      } else {
        this.apply(write);
      }
    }
    this.queued = [];
    this.fsync = undefined;
  }

  lastZxid(): number {
    return this.durable.records.at(-1)?.zxid ?? this.durable.snapshot.zxid;
  }

  private apply(write: Write): void {
    if (write.kind === 'truncate') this.durable.records = this.durable.records.filter((record) => record.zxid <= write.after);
    else this.durable.records.push(...write.records);
  }
}
