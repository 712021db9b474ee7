import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { invariant, ShardkvError } from '../../errors/codes.js';
import type { Logger } from '../../logging/logger.js';
import { loadChecksum, type Checksum } from './checksum.js';
import { syncDirectory } from './durable-fs.js';
import {
  readSnapshotFile,
  snapshotLooksComplete,
  writeSnapshotFile,
  type LoadedSnapshot,
  type SnapshotOrigin,
} from './snapshot-file.js';
import { zxidFromHex, zxidToHex } from './zxid.js';

const SNAPSHOT_NAME = /^snapshot\.([0-9a-f]{16})$/;

/** The snapshot files `snapshot.<zxid, 16 hex>` of one replica, in one directory. */
export class SnapshotStore {
  private writing = false;

  private constructor(
    private readonly dir: string,
    private readonly checksum: Checksum,
    private readonly logger: Logger,
  ) {}

  /** Opens the directory, removing temp files left by a crash during a snapshot write. */
  static async open(dir: string, options: { logger: Logger }): Promise<SnapshotStore> {
    await mkdir(dir, { recursive: true });
    const leftovers = (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
    for (const name of leftovers) await unlink(join(dir, name));
    if (leftovers.length > 0) await syncDirectory(dir);
    return new SnapshotStore(dir, await loadChecksum(), options.logger);
  }

  /** zxids of the snapshot files present, newest first (valid or not). */
  async zxids(): Promise<number[]> {
    const zxids: number[] = [];
    for (const name of await readdir(this.dir)) {
      const match = SNAPSHOT_NAME.exec(name);
      const zxid = match === null ? undefined : zxidFromHex(match[1]!);
      if (zxid !== undefined) zxids.push(zxid);
    }
    return zxids.sort((a, b) => b - a);
  }

  pathOf(zxid: number): string {
    return join(this.dir, `snapshot.${zxidToHex(zxid)}`);
  }

  /** Writes the snapshot labelled `zxid` (see writeSnapshotFile); one write at a time. */
  async write(
    zxid: number,
    chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    origin: SnapshotOrigin = 'local',
  ): Promise<string> {
    invariant(!this.writing, 'one snapshot write at a time');
    this.writing = true;
    try {
      const path = this.pathOf(zxid);
      const started_ms = Date.now();
      await writeSnapshotFile(this.checksum, path, zxid, origin, chunks);
      this.logger.info({ file: path, zxid, origin, elapsed_ms: Date.now() - started_ms }, 'snapshot written');
      return path;
    } finally {
      this.writing = false;
    }
  }

  /** The newest snapshot that reads back completely; corrupt or partial ones are skipped with a warning. */
  async newestValid(): Promise<LoadedSnapshot | undefined> {
    for (const zxid of await this.zxids()) {
      try {
        return await readSnapshotFile(this.checksum, this.pathOf(zxid));
      } catch (err) {
        if (!(err instanceof ShardkvError && err.code === 'CORRUPT_SNAPSHOT')) throw err;
        this.logger.warn({ file: this.pathOf(zxid), err: err.message }, 'skipping a corrupt snapshot');
      }
    }
    return undefined;
  }

  /**
   * Keeps the newest `retainCount` complete snapshots (header and trailer intact) and deletes
   * every older or incomplete one older than them. Resolves to the zxid of the oldest snapshot
   * kept, so the caller can purge the log segments before it; undefined when none is kept.
   */
  async purge(retainCount: number): Promise<number | undefined> {
    invariant(Number.isInteger(retainCount) && retainCount >= 1, 'keep at least one snapshot');
    const kept: number[] = [];
    const deleted: string[] = [];
    for (const zxid of await this.zxids()) {
      const path = this.pathOf(zxid);
      if (kept.length < retainCount) {
        if (await snapshotLooksComplete(this.checksum, path)) kept.push(zxid);
        continue;
      }
      await unlink(path);
      deleted.push(path);
    }
    if (deleted.length > 0) {
      await syncDirectory(this.dir);
      this.logger.info({ deleted, kept: kept.length }, 'purged old snapshots');
    }
    return kept.at(-1);
  }
}
