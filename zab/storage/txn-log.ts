import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { invariant, ShardkvError } from '../../errors/codes.js';
import type { Logger } from '../../logging/logger.js';
import { loadChecksum, type Checksum } from './checksum.js';
import { syncDirectory } from './durable-fs.js';
import { containsValidRecordFrom, decodeRecordAt, encodeRecords, type LogRecord } from './log-record.js';
import { zxidFromHex, zxidToHex } from './zxid.js';

export type { LogRecord } from './log-record.js';

export const DEFAULT_SEGMENT_SIZE_BYTES = 64 * 2 ** 20;
/** Upper bound of one group-commit write, so a burst of appends cannot build one huge buffer. */
const MAX_BATCH_BYTES = 16 * 2 ** 20;
const SEGMENT_NAME = /^log\.([0-9a-f]{16})$/;

export interface TxnLogOptions {
  logger: Logger;
  /** A new segment starts once the current one has reached this size. */
  segmentSize_bytes?: number;
  /** Flushes a segment after a write; default `FileHandle.datasync`. Tests wrap it to watch fsyncs. */
  syncData?: (handle: FileHandle) => Promise<void>;
}

/** Counters of the work the log has done; `syncs` is the number of data fsyncs of segments. */
export interface TxnLogStats {
  appendCalls: number;
  records: number;
  writes: number;
  syncs: number;
}

interface Segment {
  path: string;
  firstZxid: number;
  lastZxid: number;
  /** Bytes known durable; the next write goes here. */
  size_bytes: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

type Operation =
  | ({ kind: 'append'; bytes: Uint8Array; firstZxid: number; lastZxid: number; recordCount: number } & Waiter)
  | ({ kind: 'control'; run: () => Promise<void> } & Waiter);

/**
 * The transaction log of one replica: segment files `log.<first zxid, 16 hex>` in one directory.
 *
 * Every mutation (append, truncate, reset, purge, close) goes through one queue and is done by one
 * drain loop, so they happen in call order and never overlap. Appends that queue up while a
 * write+fsync is in flight are written together by the next single write and fsync (group commit);
 * each append's promise resolves only after the fsync that covered its records.
 * After a failed write or fsync the log refuses all further work: the disk state is unknown and
 * the replica must reopen (and so recover) it.
 */
export class TxnLog {
  readonly stats: TxnLogStats = { appendCalls: 0, records: 0, writes: 0, syncs: 0 };
  private readonly queue: Operation[] = [];
  private draining = false;
  private failure: unknown;
  private closed = false;
  private current: FileHandle | undefined;
  /** The zxid the next append must exceed: the last queued record, or the floor of an empty log. */
  private tailZxid: number;
  private floorZxid = 0;

  private constructor(
    private readonly dir: string,
    private readonly segments: Segment[],
    private readonly checksum: Checksum,
    private readonly segmentSize_bytes: number,
    private readonly syncData: (handle: FileHandle) => Promise<void>,
    private readonly logger: Logger,
  ) {
    this.tailZxid = segments.at(-1)?.lastZxid ?? 0;
  }

  /** Opens (creating if needed) the log in `dir` and recovers it; see README.md, "Recovery". */
  static async open(dir: string, options: TxnLogOptions): Promise<TxnLog> {
    await mkdir(dir, { recursive: true });
    const checksum = await loadChecksum();
    const segments = await recoverSegments(dir, checksum, options.logger);
    const log = new TxnLog(
      dir,
      segments,
      checksum,
      options.segmentSize_bytes ?? DEFAULT_SEGMENT_SIZE_BYTES,
      options.syncData ?? ((handle) => handle.datasync()),
      options.logger,
    );
    const last = segments.at(-1);
    if (last !== undefined) log.current = await open(last.path, 'r+');
    return log;
  }

  /** The zxid of the last durable record; for an empty log, the zxid it continues after (0 if none). */
  get lastZxid(): number {
    return this.segments.at(-1)?.lastZxid ?? this.floorZxid;
  }

  /** The zxid of the oldest record held, undefined when the log is empty. */
  get firstZxid(): number | undefined {
    return this.segments[0]?.firstZxid;
  }

  /** The segment files, oldest first (absolute paths). */
  segmentFiles(): string[] {
    return this.segments.map((segment) => segment.path);
  }

  /**
   * Appends records (strictly increasing zxids, above every record appended before) and resolves
   * once they are on disk (written and fsync'd).
   */
  append(records: readonly LogRecord[]): Promise<void> {
    this.assertUsable();
    if (records.length === 0) return Promise.resolve();
    let previous = this.tailZxid;
    for (const record of records) {
      invariant(record.zxid > previous, `log append out of order: zxid ${record.zxid} after ${previous}`);
      previous = record.zxid;
    }
    const bytes = encodeRecords(this.checksum, records);
    this.tailZxid = previous;
    this.stats.appendCalls += 1;
    return new Promise<void>((resolve, reject) => {
      this.enqueue({
        kind: 'append',
        bytes,
        firstZxid: records[0]!.zxid,
        lastZxid: previous,
        recordCount: records.length,
        resolve,
        reject,
      });
    });
  }

  /** Removes every record with zxid > `zxid`, durably (after the appends queued before it). */
  truncateAfter(zxid: number): Promise<void> {
    this.assertUsable();
    this.tailZxid = Math.min(this.tailZxid, zxid);
    return this.control(() => this.doTruncateAfter(zxid));
  }

  /**
   * Deletes every segment; the log then continues after `zxid` (a follower synced by SNAP: the
   * snapshot at `zxid` replaces the whole log).
   */
  reset(zxid: number): Promise<void> {
    this.assertUsable();
    this.tailZxid = zxid;
    return this.control(async () => {
      await this.deleteSegments(this.segments.length);
      this.floorZxid = zxid;
    });
  }

  /** For an empty log: the next append must exceed `zxid` (set after recovery from a snapshot). */
  raiseFloor(zxid: number): void {
    if (this.segments.length === 0 && this.queue.length === 0) {
      this.floorZxid = Math.max(this.floorZxid, zxid);
      this.tailZxid = Math.max(this.tailZxid, this.floorZxid);
    }
  }

  /**
   * Deletes the oldest segments all of whose records are <= `zxid`. The last segment is always
   * kept, and so is the segment holding the first record after `zxid`. Resolves to the count deleted.
   */
  purgeSegmentsBefore(zxid: number): Promise<number> {
    this.assertUsable();
    let deleted = 0;
    return this.control(async () => {
      let count = 0;
      while (count < this.segments.length - 1 && this.segments[count]!.lastZxid <= zxid) count += 1;
      await this.deleteSegments(count, 'front');
      deleted = count;
    }).then(() => deleted);
  }

  /**
   * Deletes segments all of whose records are <= `zxid`, the last one included. Recovery uses it
   * when the newest snapshot was installed by SNAP, which supersedes the log before it.
   */
  dropSegmentsThrough(zxid: number): Promise<void> {
    this.assertUsable();
    return this.control(async () => {
      let count = 0;
      while (count < this.segments.length && this.segments[count]!.lastZxid <= zxid) count += 1;
      await this.deleteSegments(count, 'front');
      if (this.segments.length === 0) {
        this.floorZxid = Math.max(this.floorZxid, zxid);
        this.tailZxid = Math.max(this.tailZxid, this.floorZxid);
      }
    });
  }

  /**
   * The durable records with zxid > `zxid`, in order (recovery replay, DIFF sync). Payloads are
   * views into a buffer holding one segment: copy one to keep it. Must not overlap a truncate,
   * reset or purge of the segments it has still to read.
   */
  async *readFrom(zxid: number): AsyncGenerator<LogRecord> {
    const segments = [...this.segments];
    let index = 0;
    while (index < segments.length && segments[index]!.lastZxid <= zxid) index += 1;
    for (; index < segments.length; index += 1) {
      const segment = segments[index]!;
      const size_bytes = segment.size_bytes;
      const bytes = await readPrefix(segment.path, size_bytes);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let at = 0;
      while (at < size_bytes) {
        const decoded = decodeRecordAt(this.checksum, bytes, at, view);
        if (decoded.status !== 'ok') {
          throw corruptLog(segment.path, at, `a durable record no longer decodes (${decoded.status})`);
        }
        if (decoded.zxid > zxid) yield { zxid: decoded.zxid, payload: decoded.payload };
        at = decoded.end;
      }
    }
  }

  /** Finishes the queued work and closes the log; later calls fail. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = this.control(async () => {
      await this.current?.close();
      this.current = undefined;
    });
    this.closed = true;
    return done;
  }

  private assertUsable(): void {
    if (this.failure !== undefined) {
      const reason = this.failure instanceof Error ? this.failure.message : String(this.failure);
      throw new ShardkvError('UNAVAILABLE', `the transaction log in ${this.dir} failed and must be reopened: ${reason}`);
    }
    if (this.closed) throw new ShardkvError('UNAVAILABLE', `the transaction log in ${this.dir} is closed`);
  }

  private control(run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => this.enqueue({ kind: 'control', run, resolve, reject }));
  }

  private enqueue(operation: Operation): void {
    this.queue.push(operation);
    if (!this.draining) {
      this.draining = true;
      void this.drain();
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.kind === 'control') {
        this.queue.shift();
        try {
          await head.run();
          head.resolve();
        } catch (err) {
          this.fail(err, [head]);
        }
        continue;
      }
      const batch = this.takeAppendBatch();
      try {
        await this.writeBatch(batch);
        for (const operation of batch) operation.resolve();
      } catch (err) {
        this.fail(err, batch);
      }
      // One microtask hop: callers woken by this batch queue their next appends before the next
      // batch is cut, instead of always missing it by one turn.
      await Promise.resolve();
    }
    this.draining = false;
  }

  /** The appends at the head of the queue, up to the next control operation or the batch byte limit. */
  private takeAppendBatch(): Array<Extract<Operation, { kind: 'append' }>> {
    const batch: Array<Extract<Operation, { kind: 'append' }>> = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (next.kind !== 'append') break;
      if (batch.length > 0 && bytes + next.bytes.byteLength > MAX_BATCH_BYTES) break;
      this.queue.shift();
      batch.push(next);
      bytes += next.bytes.byteLength;
    }
    return batch;
  }

  private async writeBatch(batch: Array<Extract<Operation, { kind: 'append' }>>): Promise<void> {
    let segment = this.segments.at(-1);
    if (segment === undefined || segment.size_bytes >= this.segmentSize_bytes) {
      segment = await this.createSegment(batch[0]!.firstZxid);
    }
    const handle = this.current;
    invariant(handle !== undefined, 'the current segment has an open file');
    const bytes = batch.length === 1 ? batch[0]!.bytes : concat(batch.map((operation) => operation.bytes));
    await writeFully(handle, bytes, segment.size_bytes);
    this.stats.writes += 1;
    await this.syncData(handle);
    this.stats.syncs += 1;
    segment.size_bytes += bytes.byteLength;
    segment.lastZxid = batch.at(-1)!.lastZxid;
    for (const operation of batch) this.stats.records += operation.recordCount;
  }

  private async createSegment(firstZxid: number): Promise<Segment> {
    await this.current?.close();
    this.current = undefined;
    const path = join(this.dir, `log.${zxidToHex(firstZxid)}`);
    const handle = await open(path, 'wx');
    this.current = handle;
    await syncDirectory(this.dir);
    const segment: Segment = { path, firstZxid, lastZxid: firstZxid, size_bytes: 0 };
    this.segments.push(segment);
    return segment;
  }

  /** Deletes `count` segments from the back (default) or the front, then syncs the directory. */
  private async deleteSegments(count: number, from: 'front' | 'back' = 'back'): Promise<void> {
    if (count === 0) return;
    const removed = from === 'back' ? this.segments.splice(this.segments.length - count, count) : this.segments.splice(0, count);
    if (from === 'back' || this.segments.length === 0) {
      await this.current?.close();
      this.current = undefined;
    }
    for (const segment of removed) await unlink(segment.path);
    await syncDirectory(this.dir);
    const last = this.segments.at(-1);
    if (this.current === undefined && last !== undefined) this.current = await open(last.path, 'r+');
  }

  private async doTruncateAfter(zxid: number): Promise<void> {
    let keep = this.segments.length;
    while (keep > 0 && this.segments[keep - 1]!.firstZxid > zxid) keep -= 1;
    await this.deleteSegments(this.segments.length - keep);
    const last = this.segments.at(-1);
    if (last === undefined) {
      this.floorZxid = Math.min(this.floorZxid, zxid);
      return;
    }
    if (last.lastZxid <= zxid) return;
    const bytes = await readPrefix(last.path, last.size_bytes);
    let at = 0;
    let lastKept = 0;
    for (;;) {
      const decoded = decodeRecordAt(this.checksum, bytes, at);
      invariant(decoded.status === 'ok', `durable record at ${last.path}:${at} decodes`);
      if (decoded.zxid > zxid) break;
      lastKept = decoded.zxid;
      at = decoded.end;
    }
    const handle = this.current;
    invariant(handle !== undefined, 'the current segment has an open file');
    await handle.truncate(at);
    await handle.sync();
    last.size_bytes = at;
    last.lastZxid = lastKept;
  }

  private fail(err: unknown, operations: Operation[]): void {
    this.failure ??= err;
    this.logger.error({ err, dir: this.dir }, 'transaction log failed; it must be reopened');
    for (const operation of operations) operation.reject(err);
    for (const operation of this.queue.splice(0)) operation.reject(err);
  }
}

/**
 * Reads every segment in zxid order, truncating a torn tail of the last one and refusing a
 * corrupt record anywhere else (see README.md, "Recovery").
 */
async function recoverSegments(dir: string, checksum: Checksum, logger: Logger): Promise<Segment[]> {
  const names = (await readdir(dir)).filter((name) => SEGMENT_NAME.test(name)).sort();
  const segments: Segment[] = [];
  let previousZxid = 0;
  for (let index = 0; index < names.length; index += 1) {
    const name = names[index]!;
    const path = join(dir, name);
    const namedZxid = zxidFromHex(SEGMENT_NAME.exec(name)![1]!);
    if (namedZxid === undefined) throw corruptLog(path, 0, 'the file name is not a valid zxid');
    const isLast = index === names.length - 1;
    const bytes = new Uint8Array(await readFile(path));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    let firstZxid: number | undefined;
    while (at < bytes.byteLength) {
      const decoded = decodeRecordAt(checksum, bytes, at, view);
      if (decoded.status !== 'ok') {
        if (!isLast) throw corruptLog(path, at, `${decoded.status} record in a segment that is not the last`);
        if (containsValidRecordFrom(checksum, bytes, at + 1)) {
          throw corruptLog(path, at, `${decoded.status} record followed by valid records`);
        }
        logger.warn(
          { file: path, offset: at, droppedBytes: bytes.byteLength - at, reason: decoded.status },
          'truncating a torn tail of the transaction log',
        );
        await truncateFile(path, at);
        break;
      }
      if (decoded.zxid <= previousZxid) {
        throw corruptLog(path, at, `record zxid ${decoded.zxid} is not above the previous ${previousZxid}`);
      }
      if (firstZxid === undefined && decoded.zxid !== namedZxid) {
        throw corruptLog(path, at, `first record zxid ${decoded.zxid} differs from the file name`);
      }
      firstZxid ??= decoded.zxid;
      previousZxid = decoded.zxid;
      at = decoded.end;
    }
    if (firstZxid === undefined) {
      if (!isLast) throw corruptLog(path, 0, 'empty segment that is not the last');
      // Created for a write that never reached the disk: it holds nothing.
      await unlink(path);
      await syncDirectory(dir);
      continue;
    }
    segments.push({ path, firstZxid, lastZxid: previousZxid, size_bytes: at });
  }
  return segments;
}

function corruptLog(path: string, offset: number, reason: string): ShardkvError {
  return new ShardkvError('CORRUPT_LOG', `corrupt transaction log ${path} at byte offset ${offset}: ${reason}`, {
    file: path,
    offset,
  });
}

async function truncateFile(path: string, size_bytes: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(size_bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readPrefix(path: string, size_bytes: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const bytes = new Uint8Array(size_bytes);
    let at = 0;
    while (at < size_bytes) {
      const { bytesRead } = await handle.read(bytes, at, size_bytes - at, at);
      if (bytesRead === 0) throw corruptLog(path, at, `the file ends before its durable size ${size_bytes}`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  // Bounded: every round writes at least one byte or throws.
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written, position + written);
    invariant(bytesWritten > 0, 'a file write makes progress');
    written += bytesWritten;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.byteLength;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return bytes;
}
