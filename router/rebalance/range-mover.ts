/**
 * One transfer of a rebalance: the hash ranges moving from group `from` to group `to`. The
 * mover copies a snapshot of the ranges from the source leader into the target through the
 * target's log (pages of exportRange -> importRange, throttled to a byte rate), then tails the
 * source's changes until the remainder is small; then the source fences the ranges through
 * its log and the mover applies the tail up to the fence. After the ring that moves the ranges
 * is committed, the source drops them.
 *
 * Every step is idempotent. A failure anywhere before the ring commit (a leader change on
 * either side loses the export) restarts the transfer: the target first forgets what it had of
 * the ranges, so a restart cannot leave stale keys behind.
 *
 * Every op that changes a group (reset, import, fence, drop) carries the coordinator's fencing
 * token; a group that has accepted a higher one refuses it (STALE_COORDINATOR), and the mover
 * stops with that error.
 */
import { randomBytes } from 'node:crypto';
import type { DropRangeReply, ExportPageReply, ExportTailReply, ShardReplyHeader } from '../../protocol/shard.js';
import type { HashRangeText, RangeImage } from '../../znode/range-transfer.js';
import type { GroupLeaderClient } from './group-leader-client.js';

export interface TransferSpec {
  id: string;
  from: string;
  to: string;
  ranges: HashRangeText[];
  /** The ring version that hands the ranges to `to`. */
  toRingVersion: number;
  /** The coordinator's fencing token (its election sequence number). Default 0: no fencing. */
  coordinatorToken?: number;
}

export interface TransferProgress {
  keysCopied: number;
  bytesCopied: number;
  /** Keys in the ranges when the copy began. */
  keysTotal: number;
  /** Keys and bytes applied from tails. */
  tailKeys: number;
}

export interface RangeMoverOptions {
  /** Copy throttle, bytes per second. Default 16 MiB/s; 0 = unthrottled. */
  rate_bytes_per_s?: number;
  /** Entries per export page. Default 1000. */
  pageEntries?: number;
  /**
   * Bytes per export page (one importNodes txn on the target). Default 64 KiB: each page is one
   * burst of encode, replicate and fsync on both groups, and smaller bursts delay the foreground
   * requests queued behind them less (bench/rebalance.bench.ts); the throttle sets the average.
   */
  pageBytes?: number;
  /** A tail this small (bytes) is close enough to fence. Default 64 KiB. */
  closeEnough_bytes?: number;
  /** Tail rounds before fencing anyway (a source that changes faster than we copy). Default 20. */
  maxTailRounds?: number;
  onProgress?: (progress: TransferProgress) => void;
}

function imageKeys(image: RangeImage): number {
  return image.nodes.length + image.deletes.length + image.sessions.length + image.closedSessions.length;
}

function isEmpty(image: RangeImage): boolean {
  return imageKeys(image) === 0 && image.dirs.length === 0;
}

export class RangeMover {
  private exportId: string;
  private sinceZxid = 0;
  readonly progress: TransferProgress = { keysCopied: 0, bytesCopied: 0, keysTotal: 0, tailKeys: 0 };

  constructor(
    private readonly client: GroupLeaderClient,
    readonly spec: TransferSpec,
    private readonly options: RangeMoverOptions = {},
  ) {
    this.exportId = `${spec.id}-${randomBytes(4).toString('hex')}`;
  }

  /** Resets the target's copy of the ranges, copies them, and tails until close to the source. */
  async copyAndTail(): Promise<void> {
    const { from, to, ranges } = this.spec;
    this.exportId = `${this.spec.id}-${randomBytes(4).toString('hex')}`;
    Object.assign(this.progress, { keysCopied: 0, bytesCopied: 0, keysTotal: 0, tailKeys: 0 });
    await this.client.send<DropRangeReply>(to, { op: 'dropRange', ranges, ...this.token });
    const rate = this.options.rate_bytes_per_s ?? 16 * 1024 * 1024;
    const started_ms = Date.now();
    let cursor: number | null = 0;
    while (cursor !== null) {
      const page: ExportPageReply = await this.client.send<ExportPageReply>(from, {
        op: 'exportRange', exportId: this.exportId, ranges, cursor,
        limit: this.options.pageEntries ?? 1000, maxBytes: this.options.pageBytes ?? 64 * 1024,
      });
      if (cursor === 0) this.sinceZxid = page.startZxid;
      if (!isEmpty(page.image)) await this.client.send<ShardReplyHeader>(to, { op: 'importRange', image: page.image, ...this.token });
      this.progress.keysTotal = page.totalEntries;
      // Entries walked (dirs included; those deleted meanwhile come with the tail).
      this.progress.keysCopied = page.nextCursor ?? page.totalEntries;
      this.progress.bytesCopied += page.size_bytes;
      this.options.onProgress?.(this.progress);
      cursor = page.nextCursor;
      if (rate > 0) {
        const due_ms = (this.progress.bytesCopied / rate) * 1000 - (Date.now() - started_ms);
        if (due_ms > 0) await new Promise((resolve) => setTimeout(resolve, due_ms));
      }
    }
    await this.catchUp();
  }

  /** Applies the source's changes until what is left is small (or after maxTailRounds). */
  async catchUp(): Promise<void> {
    const closeEnough = this.options.closeEnough_bytes ?? 64 * 1024;
    for (let round = 0; round < (this.options.maxTailRounds ?? 20); round++) {
      const applied = await this.tailOnce();
      if (applied.size_bytes <= closeEnough && !applied.more) break;
    }
  }

  /**
   * After the fence: the target holds as many keys of the ranges as the (frozen) source. Catches
   * a target that lost part of its copy (a stale mover resetting it) before the ring commits.
   */
  async verifyCounts(): Promise<void> {
    const count = async (group: string): Promise<number> => {
      const exportId = `${this.spec.id}-count-${randomBytes(3).toString('hex')}`;
      const page = await this.client.send<ExportPageReply>(group, {
        op: 'exportRange', exportId, ranges: this.spec.ranges, cursor: 0, limit: 1, maxBytes: 1,
      });
      await this.client.send<ShardReplyHeader>(group, { op: 'exportEnd', exportId }).catch(() => undefined);
      return page.totalEntries;
    };
    const [source, target] = await Promise.all([count(this.spec.from), count(this.spec.to)]);
    if (source !== target) {
      throw new Error(`transfer ${this.spec.id}: the target holds ${target} keys of the ranges, the fenced source ${source}`);
    }
  }

  /** Fences the ranges on the source and applies its tail up to the fence. Returns the fence's zxid. */
  async fenceAndFinish(): Promise<number> {
    const fence = await this.client.send<ShardReplyHeader>(this.spec.from, {
      op: 'fenceRange', fenceId: this.fenceId, ranges: this.spec.ranges, toRingVersion: this.spec.toRingVersion, ...this.token,
    });
    // Bounded: after the fence only housekeeping can change the ranges.
    for (let round = 0; round < 1000; round++) {
      const tail = await this.tailOnce();
      if (!tail.more && tail.zxid >= fence.zxid) return fence.zxid;
    }
    throw new Error(`transfer ${this.spec.id}: the source kept changing after its fence`);
  }

  /** After the ring commit: the source forgets the ranges and the fence. */
  async drop(): Promise<number> {
    await this.client.send<ShardReplyHeader>(this.spec.from, { op: 'exportEnd', exportId: this.exportId }).catch(() => undefined);
    const reply = await this.client.send<DropRangeReply>(this.spec.from, {
      op: 'dropRange', ranges: this.spec.ranges, fenceId: this.fenceId, ...this.token,
    }, this.spec.toRingVersion);
    return reply.deleted;
  }

  private get token(): { coordinatorToken?: number } {
    return this.spec.coordinatorToken === undefined ? {} : { coordinatorToken: this.spec.coordinatorToken };
  }

  get fenceId(): string {
    return `f-${this.spec.id}`;
  }

  private async tailOnce(): Promise<ExportTailReply> {
    const tail = await this.client.send<ExportTailReply>(this.spec.from, {
      op: 'exportTail', exportId: this.exportId, sinceZxid: this.sinceZxid, limit: this.options.pageEntries ?? 1000,
    });
    if (!isEmpty(tail.image)) await this.client.send<ShardReplyHeader>(this.spec.to, { op: 'importRange', image: tail.image, ...this.token });
    this.sinceZxid = tail.zxid;
    this.progress.tailKeys += imageKeys(tail.image);
    this.progress.bytesCopied += tail.size_bytes;
    this.options.onProgress?.(this.progress);
    return tail;
  }
}
