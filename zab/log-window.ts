/**
 * The in-memory tail of the transaction log: every record after the applied point, plus a bounded
 * number of applied ones kept for DIFF syncs. `base` is the zxid just before the first kept record
 * (a snapshot or trimmed point, always applied and committed; 0 = the empty history).
 */
import { invariant } from '../errors/codes.js';
import type { LogRecord } from './messages.js';
import { epochOf, formatZxid } from './zxid.js';

export class LogWindow {
  private records: LogRecord[] = [];
  private baseZxid: number;

  constructor(base: number, records: readonly LogRecord[]) {
    this.baseZxid = base;
    for (const record of records) this.append(record);
  }

  get base(): number {
    return this.baseZxid;
  }

  get lastZxid(): number {
    return this.records.length > 0 ? this.records[this.records.length - 1]!.zxid : this.baseZxid;
  }

  get size(): number {
    return this.records.length;
  }

  append(record: LogRecord): void {
    if (record.zxid <= this.lastZxid) invariant(false, `zxids must strictly increase: ${formatZxid(record.zxid)} after ${formatZxid(this.lastZxid)}`);
    this.records.push(record);
  }

  /** True when `zxid` is in this history: a kept record, or the base. */
  has(zxid: number): boolean {
    return zxid === this.baseZxid || this.indexOf(zxid) >= 0;
  }

  get(zxid: number): LogRecord | undefined {
    const at = this.indexOf(zxid);
    return at >= 0 ? this.records[at] : undefined;
  }

  /** Records with from < zxid <= through, at most `limit` of them. `from` must not be before the base. */
  between(from: number, through: number, limit = Infinity): LogRecord[] {
    if (from < this.baseZxid) invariant(false, `records after ${formatZxid(from)} were trimmed (base ${formatZxid(this.baseZxid)})`);
    const out: LogRecord[] = [];
    for (let i = this.firstAfter(from); i < this.records.length && out.length < limit; i++) {
      const record = this.records[i]!;
      if (record.zxid > through) break;
      out.push(record);
    }
    return out;
  }

  /** Drops every record after `zxid`. */
  truncateAfter(zxid: number): void {
    invariant(zxid >= this.baseZxid, `cannot truncate below the base ${formatZxid(this.baseZxid)} to ${formatZxid(zxid)}`);
    this.records.length = this.firstAfter(zxid);
  }

  /** Replaces the whole log by an empty one starting after `base` (snapshot install). */
  reset(base: number): void {
    this.records = [];
    this.baseZxid = base;
  }

  /**
   * Forgets records through `appliedZxid` beyond the newest `keep` of them, in batches of
   * min(64, keep / 4): removing from the front of an array costs the whole array, so trimming
   * one record per commit would make every commit O(window).
   */
  trim(appliedZxid: number, keep: number): void {
    const applied = this.firstAfter(appliedZxid);
    const drop = applied - keep;
    if (drop <= 0 || drop < Math.min(64, Math.max(1, keep >> 2))) return;
    this.baseZxid = this.records[drop - 1]!.zxid;
    this.records.splice(0, drop);
  }

  /** For the records after `from`: the last zxid of each epoch, ascending. */
  epochLastsAfter(from: number): number[] {
    const out: number[] = [];
    for (let i = this.firstAfter(from); i < this.records.length; i++) {
      const zxid = this.records[i]!.zxid;
      const next = this.records[i + 1];
      if (next === undefined || epochOf(next.zxid) !== epochOf(zxid)) out.push(zxid);
    }
    return out;
  }

  /** The largest kept zxid of `epoch` that is <= limit, or undefined. */
  lastOfEpochAtMost(epoch: number, limit: number): number | undefined {
    for (let i = this.firstAfter(limit) - 1; i >= 0; i--) {
      const zxid = this.records[i]!.zxid;
      if (epochOf(zxid) === epoch) return zxid;
      if (epochOf(zxid) < epoch) return undefined;
    }
    return undefined;
  }

  private indexOf(zxid: number): number {
    const at = this.firstAfter(zxid) - 1;
    return at >= 0 && this.records[at]!.zxid === zxid ? at : -1;
  }

  /** Index of the first record with a zxid greater than `zxid` (binary search). */
  private firstAfter(zxid: number): number {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid]!.zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
