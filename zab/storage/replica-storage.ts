import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { invariant } from '../../errors/codes.js';
import type { Logger } from '../../logging/logger.js';
import { EpochFile, type Epochs } from './epoch-file.js';
import type { SnapshotSource } from './snapshot-file.js';
import { SnapshotStore } from './snapshot-store.js';
import { TxnLog, type LogRecord } from './txn-log.js';

export const DEFAULT_SNAPSHOT_RETAIN = 3;

export interface ReplicaStorageOptions {
  logger: Logger;
  /** Snapshots kept by `purge` (and so how far back a corrupt newest snapshot can fall back). */
  snapshotRetain?: number;
  segmentSize_bytes?: number;
}

/** What an engine driver needs at start-up, from `ReplicaStorage.open`. */
export interface RecoveredState extends Epochs {
  /** The newest valid snapshot: restore the state machine from it first. */
  snapshot?: { zxid: number; chunks: Iterable<Uint8Array> };
  /** Then apply these log records, all with zxid above the snapshot's, in order. */
  records: AsyncIterable<LogRecord>;
  /** The zxid of the last transaction held (log or snapshot); 0 for a new replica. */
  lastZxid: number;
}

/**
 * The durable state of one replica in one directory: `epochs`, `log/` (TxnLog) and
 * `snapshots/` (SnapshotStore). Opening it recovers; see README.md, "Recovery".
 */
export class ReplicaStorage {
  private constructor(
    readonly log: TxnLog,
    readonly snapshots: SnapshotStore,
    private readonly epochFile: EpochFile,
    readonly recovered: RecoveredState,
    private readonly snapshotRetain: number,
    private readonly logger: Logger,
  ) {}

  static async open(dir: string, options: ReplicaStorageOptions): Promise<ReplicaStorage> {
    const snapshotRetain = options.snapshotRetain ?? DEFAULT_SNAPSHOT_RETAIN;
    invariant(Number.isInteger(snapshotRetain) && snapshotRetain >= 1, 'snapshotRetain >= 1');
    await mkdir(dir, { recursive: true });
    const epochFile = await EpochFile.open(dir);
    const snapshots = await SnapshotStore.open(join(dir, 'snapshots'), { logger: options.logger });
    const newest = await snapshots.newestValid();
    const log = await TxnLog.open(join(dir, 'log'), {
      logger: options.logger,
      ...(options.segmentSize_bytes === undefined ? {} : { segmentSize_bytes: options.segmentSize_bytes }),
    });
    const snapshotZxid = newest?.zxid ?? 0;
    // A snapshot installed by SNAP supersedes every record up to it; such records still in the
    // log are what a crash in the middle of installSnapshot left behind.
    if (newest?.origin === 'installed') await log.dropSegmentsThrough(snapshotZxid);
    log.raiseFloor(snapshotZxid);
    const recovered: RecoveredState = {
      ...epochFile.epochs,
      ...(newest === undefined ? {} : { snapshot: { zxid: newest.zxid, chunks: newest.chunks } }),
      records: log.readFrom(snapshotZxid),
      lastZxid: Math.max(log.lastZxid, snapshotZxid),
    };
    options.logger.info(
      { dir, ...epochFile.epochs, snapshotZxid, lastZxid: recovered.lastZxid, firstLogZxid: log.firstZxid },
      'replica storage recovered',
    );
    return new ReplicaStorage(log, snapshots, epochFile, recovered, snapshotRetain, options.logger);
  }

  get epochs(): Epochs {
    return this.epochFile.epochs;
  }

  /** Persists epochs (atomically, both at once); pass only the one that changes. */
  writeEpochs(next: Partial<Epochs>): Promise<void> {
    return this.epochFile.write({ ...this.epochFile.epochs, ...next });
  }

  /**
   * Takes a fuzzy snapshot labelled `appliedZxid` (the zxid last applied now, before the first
   * chunk is pulled) without stopping the replica, then purges past the retention count.
   */
  async takeSnapshot(appliedZxid: number, source: SnapshotSource): Promise<void> {
    await this.snapshots.write(appliedZxid, source.snapshotChunks(), 'local');
    await this.purge();
  }

  /**
   * A follower synced by SNAP: the leader's state at `zxid` replaces the local history. Records
   * after `zxid` are dropped first (not in the leader's history, so never committed), then the
   * snapshot is made durable, then the log is emptied to continue after `zxid`. A crash between
   * steps leaves either the old state without its uncommitted tail or the new snapshot.
   */
  async installSnapshot(zxid: number, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    await this.log.truncateAfter(zxid);
    await this.snapshots.write(zxid, chunks, 'installed');
    await this.log.reset(zxid);
    await this.purge();
  }

  /** Keeps `retainCount` snapshots and deletes the log segments older than the oldest one kept. */
  async purge(retainCount = this.snapshotRetain): Promise<void> {
    const oldestKept = await this.snapshots.purge(retainCount);
    if (oldestKept === undefined) return;
    const deleted = await this.log.purgeSegmentsBefore(oldestKept);
    if (deleted > 0) this.logger.info({ deleted, beforeZxid: oldestKept }, 'purged old log segments');
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
