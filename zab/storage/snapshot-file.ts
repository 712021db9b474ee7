import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { invariant, ShardkvError } from '../../errors/codes.js';
import type { Checksum } from './checksum.js';
import { syncDirectory } from './durable-fs.js';
import { isValidZxid, readZxid, writeZxid } from './zxid.js';

/**
 * The state machine as a snapshot source. `snapshotChunks` is pulled lazily, one chunk per
 * event-loop turn, while the replica keeps applying transactions: the snapshot is "fuzzy" and
 * recovery replays the log after the zxid applied when the snapshot started (transactions are
 * idempotent state effects, so replaying one already in the snapshot is harmless).
 */
export interface SnapshotSource {
  snapshotChunks(): Iterable<Uint8Array>;
}

/** The state machine as a snapshot target: rebuilds its whole state from the chunks, in order. */
export interface SnapshotSink {
  restoreChunks(chunks: Iterable<Uint8Array>): void;
}

/** How the snapshot came to be: taken from the local state, or received from a leader by SNAP. */
export type SnapshotOrigin = 'local' | 'installed';

export interface LoadedSnapshot {
  path: string;
  zxid: number;
  origin: SnapshotOrigin;
  /** The chunks in order; each is a view into one buffer holding the file. */
  chunks: Uint8Array[];
}

/*
 * Format (little endian):
 *   header  32 bytes: magic "SKVSNAP1" | version u32 | flags u32 (bit 0: installed) | zxid u64 | xxh64(bytes 0..24) u64
 *   chunk   repeated: length u32 (< 0xffffffff) | xxh64(chunk) u64 | chunk bytes
 *   trailer 24 bytes: 0xffffffff u32 | chunk count u32 | zxid u64 | xxh64(trailer bytes 0..16) u64
 * and the file ends right after the trailer. A file without a valid trailer is incomplete.
 */
const MAGIC = new TextEncoder().encode('SKVSNAP1');
const VERSION = 1;
const FLAG_INSTALLED = 1;
const HEADER_BYTES = 32;
const CHUNK_HEADER_BYTES = 12;
const TRAILER_BYTES = 24;
const TRAILER_MARKER = 0xffffffff;
export const MAX_CHUNK_BYTES = 256 * 2 ** 20;
/** Chunks are gathered into writes of about this size. */
const WRITE_BUFFER_BYTES = 2 ** 20;

/**
 * Writes a snapshot to `path` durably: into `<path>.tmp`, fsync, rename, fsync of the directory.
 * Chunks are pulled one per event-loop turn so that the replica keeps serving meanwhile.
 */
export async function writeSnapshotFile(
  checksum: Checksum,
  path: string,
  zxid: number,
  origin: SnapshotOrigin,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  invariant(isValidZxid(zxid), `snapshot zxid ${zxid} is valid`);
  const temp = `${path}.tmp`;
  const handle = await open(temp, 'w');
  let position = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    for (const part of pending) {
      let written = 0;
      while (written < part.byteLength) {
        const { bytesWritten } = await handle.write(part, written, part.byteLength - written, position);
        invariant(bytesWritten > 0, 'a file write makes progress');
        written += bytesWritten;
        position += bytesWritten;
      }
    }
    pending = [];
    pendingBytes = 0;
  };
  const stage = async (part: Uint8Array): Promise<void> => {
    pending.push(part);
    pendingBytes += part.byteLength;
    if (pendingBytes >= WRITE_BUFFER_BYTES) await flush();
  };
  try {
    const header = new Uint8Array(HEADER_BYTES);
    const headerView = new DataView(header.buffer);
    header.set(MAGIC, 0);
    headerView.setUint32(8, VERSION, true);
    headerView.setUint32(12, origin === 'installed' ? FLAG_INSTALLED : 0, true);
    writeZxid(headerView, 16, zxid);
    headerView.setBigUint64(24, checksum(header.subarray(0, 24)), true);
    await stage(header);
    let chunkCount = 0;
    for await (const chunk of chunks) {
      invariant(chunk.byteLength <= MAX_CHUNK_BYTES, `snapshot chunk of ${chunk.byteLength} bytes is too large`);
      const chunkHeader = new Uint8Array(CHUNK_HEADER_BYTES);
      const view = new DataView(chunkHeader.buffer);
      view.setUint32(0, chunk.byteLength, true);
      view.setBigUint64(4, checksum(chunk), true);
      await stage(chunkHeader);
      // Copied: the source may reuse its buffer for the next chunk.
      await stage(chunk.slice());
      chunkCount += 1;
      await yieldToEventLoop();
    }
    const trailer = new Uint8Array(TRAILER_BYTES);
    const trailerView = new DataView(trailer.buffer);
    trailerView.setUint32(0, TRAILER_MARKER, true);
    trailerView.setUint32(4, chunkCount, true);
    writeZxid(trailerView, 8, zxid);
    trailerView.setBigUint64(16, checksum(trailer.subarray(0, 16)), true);
    await stage(trailer);
    await flush();
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

/** Reads and fully checks a snapshot file; throws CORRUPT_SNAPSHOT naming the file and offset. */
export async function readSnapshotFile(checksum: Checksum, path: string): Promise<LoadedSnapshot> {
  const bytes = new Uint8Array(await readFile(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { zxid, origin } = checkHeader(checksum, path, bytes, view);
  const chunks: Uint8Array[] = [];
  let at = HEADER_BYTES;
  for (;;) {
    if (bytes.byteLength - at < 4) throw corruptSnapshot(path, at, 'the file ends before its trailer');
    const length = view.getUint32(at, true);
    if (length === TRAILER_MARKER) break;
    if (length > MAX_CHUNK_BYTES) throw corruptSnapshot(path, at, `chunk length ${length} is too large`);
    const end = at + CHUNK_HEADER_BYTES + length;
    if (end > bytes.byteLength) throw corruptSnapshot(path, at, 'the file ends inside a chunk');
    const chunk = bytes.subarray(at + CHUNK_HEADER_BYTES, end);
    if (view.getBigUint64(at + 4, true) !== checksum(chunk)) throw corruptSnapshot(path, at, 'chunk checksum mismatch');
    chunks.push(chunk);
    at = end;
  }
  checkTrailer(checksum, path, bytes, view, at, zxid, chunks.length);
  return { path, zxid, origin, chunks };
}

/** Checks only the header and the trailer: cheap evidence that the file was completely written. */
export async function snapshotLooksComplete(checksum: Checksum, path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size < HEADER_BYTES + TRAILER_BYTES) return false;
    const bytes = new Uint8Array(HEADER_BYTES + TRAILER_BYTES);
    await handle.read(bytes, 0, HEADER_BYTES, 0);
    await handle.read(bytes, HEADER_BYTES, TRAILER_BYTES, size - TRAILER_BYTES);
    const view = new DataView(bytes.buffer);
    const { zxid } = checkHeader(checksum, path, bytes, view);
    checkTrailer(checksum, path, bytes, view, HEADER_BYTES, zxid, undefined);
    return true;
  } catch (err) {
    if (err instanceof ShardkvError && err.code === 'CORRUPT_SNAPSHOT') return false;
    throw err;
  } finally {
    await handle.close();
  }
}

function checkHeader(
  checksum: Checksum,
  path: string,
  bytes: Uint8Array,
  view: DataView,
): { zxid: number; origin: SnapshotOrigin } {
  if (bytes.byteLength < HEADER_BYTES) throw corruptSnapshot(path, 0, 'the file is shorter than a header');
  if (!MAGIC.every((byte, index) => bytes[index] === byte)) throw corruptSnapshot(path, 0, 'bad magic');
  if (view.getBigUint64(24, true) !== checksum(bytes.subarray(0, 24))) {
    throw corruptSnapshot(path, 0, 'header checksum mismatch');
  }
  if (view.getUint32(8, true) !== VERSION) throw corruptSnapshot(path, 8, 'unknown version');
  const zxid = readZxid(view, 16);
  if (zxid < 0) throw corruptSnapshot(path, 16, 'bad zxid');
  return { zxid, origin: (view.getUint32(12, true) & FLAG_INSTALLED) !== 0 ? 'installed' : 'local' };
}

function checkTrailer(
  checksum: Checksum,
  path: string,
  bytes: Uint8Array,
  view: DataView,
  at: number,
  zxid: number,
  chunkCount: number | undefined,
): void {
  if (bytes.byteLength - at !== TRAILER_BYTES) throw corruptSnapshot(path, at, 'the trailer is not at the end of the file');
  if (view.getUint32(at, true) !== TRAILER_MARKER) throw corruptSnapshot(path, at, 'bad trailer marker');
  if (view.getBigUint64(at + 16, true) !== checksum(bytes.subarray(at, at + 16))) {
    throw corruptSnapshot(path, at, 'trailer checksum mismatch');
  }
  if (readZxid(view, at + 8) !== zxid) throw corruptSnapshot(path, at, 'trailer zxid differs from the header');
  if (chunkCount !== undefined && view.getUint32(at + 4, true) !== chunkCount) {
    throw corruptSnapshot(path, at, 'trailer chunk count differs from the chunks read');
  }
}

function corruptSnapshot(path: string, offset: number, reason: string): ShardkvError {
  return new ShardkvError('CORRUPT_SNAPSHOT', `corrupt snapshot ${path} at byte offset ${offset}: ${reason}`, {
    file: path,
    offset,
  });
}
