/**
 * zab/storage benchmarks: log append+fsync with group commit against a plain fsync per append,
 * snapshot write/load of 1 M entries, and recovery (snapshot + replay) of 1 M entries.
 * `npm run bench -- --only zabstore`; about a minute on a small machine.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../logging/logger.js';
import { loadChecksum } from '../zab/storage/checksum.js';
import { encodeRecords, type LogRecord } from '../zab/storage/log-record.js';
import { ReplicaStorage } from '../zab/storage/replica-storage.js';
import { readSnapshotFile, type SnapshotSink, type SnapshotSource } from '../zab/storage/snapshot-file.js';
import { SnapshotStore } from '../zab/storage/snapshot-store.js';
import { TxnLog } from '../zab/storage/txn-log.js';
import { markdownTable, type BenchSection } from './results.js';
import type { BenchOptions } from './run.js';

const EPOCH = 2 ** 32;
const APPEND_RUN_MS = 2_000;
const APPEND_PAYLOAD_BYTES = 64;
const ENTRY_COUNT = 1_000_000;
const REPLAY_COUNT = 100_000;
const KEY_BYTES = 32;
const VALUE_BYTES = 32;
const ENTRY_BYTES = KEY_BYTES + VALUE_BYTES;
const ENTRIES_PER_CHUNK = 4096;

const logger = createLogger({ role: 'bench' }, { level: 'warn' });

function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `shardkv-bench-${name}-`));
}

function payload(counter: number): Uint8Array {
  const bytes = new Uint8Array(APPEND_PAYLOAD_BYTES);
  new DataView(bytes.buffer).setUint32(0, counter, true);
  return bytes;
}

/** `concurrency` appenders, each awaiting its own one-record append, for APPEND_RUN_MS. */
async function runAppenders(concurrency: number, append: (record: LogRecord) => Promise<void>): Promise<number> {
  let next = 1;
  let done = 0;
  const deadline = Date.now() + APPEND_RUN_MS;
  const appender = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const counter = next++;
      await append({ zxid: EPOCH + counter, payload: payload(counter) });
      done += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, appender));
  return done / ((performance.now() - started) / 1000);
}

async function groupCommitRate(concurrency: number): Promise<{ rate: number; recordsPerSync: number }> {
  const dir = tempDir('log');
  try {
    const log = await TxnLog.open(dir, { logger });
    const rate = await runAppenders(concurrency, (record) => log.append([record]));
    const recordsPerSync = log.stats.records / log.stats.syncs;
    await log.close();
    return { rate, recordsPerSync };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The baseline: the same records and file, but every append does its own write and fdatasync. */
async function plainFsyncRate(concurrency: number): Promise<number> {
  const dir = tempDir('plain');
  const checksum = await loadChecksum();
  const handle = await open(join(dir, 'log'), 'w');
  let position = 0;
  let chain: Promise<void> = Promise.resolve();
  try {
    return await runAppenders(concurrency, (record) => {
      const bytes = encodeRecords(checksum, [record]);
      // Appends are serialised (one file, one position); each waits for its own fsync.
      chain = chain.then(async () => {
        await handle.write(bytes, 0, bytes.byteLength, position);
        position += bytes.byteLength;
        await handle.datasync();
      });
      return chain;
    });
  } finally {
    await handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A toy KV state machine of fixed-size entries, snapshotted in chunks of 4096 entries. */
class FixedKv implements SnapshotSource, SnapshotSink {
  entries = new Map<string, string>();

  static filled(count: number): FixedKv {
    const kv = new FixedKv();
    for (let index = 0; index < count; index += 1) kv.entries.set(keyOf(index), valueOf(index, 0));
    return kv;
  }

  applyPut(payload: Uint8Array): void {
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    this.entries.set(bytes.toString('latin1', 0, KEY_BYTES), bytes.toString('latin1', KEY_BYTES, ENTRY_BYTES));
  }

  *snapshotChunks(): Iterable<Uint8Array> {
    let chunk = Buffer.allocUnsafe(ENTRIES_PER_CHUNK * ENTRY_BYTES);
    let at = 0;
    for (const [key, value] of this.entries) {
      chunk.write(key, at, KEY_BYTES, 'latin1');
      chunk.write(value, at + KEY_BYTES, VALUE_BYTES, 'latin1');
      at += ENTRY_BYTES;
      if (at === chunk.byteLength) {
        yield chunk;
        chunk = Buffer.allocUnsafe(ENTRIES_PER_CHUNK * ENTRY_BYTES);
        at = 0;
      }
    }
    if (at > 0) yield chunk.subarray(0, at);
  }

  restoreChunks(chunks: Iterable<Uint8Array>): void {
    this.entries = new Map();
    for (const chunk of chunks) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let at = 0; at < bytes.byteLength; at += ENTRY_BYTES) {
        this.entries.set(bytes.toString('latin1', at, at + KEY_BYTES), bytes.toString('latin1', at + KEY_BYTES, at + ENTRY_BYTES));
      }
    }
  }
}

function keyOf(index: number): string {
  return `key-${index.toString(16).padStart(12, '0')}`.padEnd(KEY_BYTES, '.');
}

function valueOf(index: number, version: number): string {
  return `value-${index}-v${version}`.padEnd(VALUE_BYTES, '.');
}

function putPayload(index: number, version: number): Uint8Array {
  return Buffer.from(keyOf(index) + valueOf(index, version), 'latin1');
}

async function timed<T>(run: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

async function appendSection(): Promise<BenchSection> {
  const rows: Array<Array<string | number>> = [];
  for (const concurrency of [1, 16, 256]) {
    const group = await groupCommitRate(concurrency);
    const plain = await plainFsyncRate(concurrency);
    rows.push([
      concurrency,
      Math.round(group.rate).toLocaleString('en-US'),
      group.recordsPerSync.toFixed(1),
      Math.round(plain).toLocaleString('en-US'),
      `${(group.rate / plain).toFixed(1)}x`,
    ]);
  }
  return {
    id: 'zabstore-append',
    title: 'zab/storage: log append + fsync, group commit vs a plain fsync per append',
    markdown:
      `Each appender awaits its own one-record append (${APPEND_PAYLOAD_BYTES}-byte payload) in a loop for ` +
      `${APPEND_RUN_MS / 1000} s. Group commit = \`TxnLog.append\` (one write + one fdatasync for everything ` +
      'queued during the previous fsync). Plain = the same records to one file, one write + fdatasync per append.\n\n' +
      markdownTable(
        ['concurrent appenders', 'group commit appends/s', 'records per fsync', 'plain fsync appends/s', 'ratio'],
        rows,
      ),
  };
}

async function snapshotSections(): Promise<BenchSection[]> {
  const dir = tempDir('snap');
  try {
    const checksum = await loadChecksum();
    const built = await timed(() => FixedKv.filled(ENTRY_COUNT));
    const kv = built.value;

    const store = await SnapshotStore.open(join(dir, 'snapshots'), { logger });
    const written = await timed(() => store.write(EPOCH + ENTRY_COUNT, kv.snapshotChunks()));
    const size_bytes = statSync(written.value).size;
    const read = await timed(() => readSnapshotFile(checksum, written.value));
    const restored = new FixedKv();
    const restore = await timed(() => restored.restoreChunks(read.value.chunks));
    if (restored.entries.size !== ENTRY_COUNT) throw new Error('snapshot load lost entries');

    // Recovery: a replica directory with that snapshot and REPLAY_COUNT later log records.
    const replicaDir = join(dir, 'replica');
    const storage = await ReplicaStorage.open(replicaDir, { logger });
    await storage.takeSnapshot(EPOCH + ENTRY_COUNT, kv);
    const batch_records = 1000;
    for (let from = 0; from < REPLAY_COUNT; from += batch_records) {
      const batch: LogRecord[] = [];
      for (let index = from; index < from + batch_records; index += 1) {
        batch.push({ zxid: EPOCH + ENTRY_COUNT + 1 + index, payload: putPayload((index * 7919) % ENTRY_COUNT, 1) });
      }
      await storage.log.append(batch);
    }
    await storage.close();
    const recovery = await timed(async () => {
      const started_ms = performance.now();
      const reopened = await ReplicaStorage.open(replicaDir, { logger });
      const opened_ms = performance.now();
      const state = new FixedKv();
      state.restoreChunks(reopened.recovered.snapshot!.chunks);
      const restored_ms = performance.now();
      let replayed = 0;
      for await (const record of reopened.recovered.records) {
        state.applyPut(record.payload);
        replayed += 1;
      }
      const replayed_ms = performance.now();
      await reopened.close();
      return { state, replayed, started_ms, opened_ms, restored_ms, replayed_ms };
    });
    if (recovery.value.replayed !== REPLAY_COUNT || recovery.value.state.entries.size !== ENTRY_COUNT) {
      throw new Error('recovery lost records');
    }
    const openMs = recovery.value.opened_ms - recovery.value.started_ms;
    const mib = size_bytes / 2 ** 20;
    return [
      {
        id: 'zabstore-snapshot',
        title: 'zab/storage: snapshot write and load, 1 M entries',
        markdown:
          `${ENTRY_COUNT.toLocaleString('en-US')} entries of ${KEY_BYTES}-byte keys and ${VALUE_BYTES}-byte values ` +
          `(a toy KV on a JS Map), chunks of ${ENTRIES_PER_CHUNK} entries; file ${mib.toFixed(1)} MiB. Write = pull ` +
          'chunks one per event-loop turn, checksum, write, fsync, rename, fsync dir. Load = read + verify every ' +
          'checksum, then restore = rebuild the Map.\n\n' +
          markdownTable(
            ['step', 'time (ms)', 'MiB/s'],
            [
              ['build the 1 M-entry state (reference)', built.ms.toFixed(0), '-'],
              ['snapshot write (fuzzy, chunked, fsync)', written.ms.toFixed(0), (mib / (written.ms / 1000)).toFixed(0)],
              ['snapshot read + verify', read.ms.toFixed(0), (mib / (read.ms / 1000)).toFixed(0)],
              ['restore into the state machine', restore.ms.toFixed(0), '-'],
              ['load total (read + verify + restore)', (read.ms + restore.ms).toFixed(0), '-'],
            ],
          ),
      },
      {
        id: 'zabstore-recovery',
        title: 'zab/storage: recovery (snapshot + replay), 1 M entries',
        markdown:
          `\`ReplicaStorage.open\` on a directory holding the 1 M-entry snapshot and ${REPLAY_COUNT.toLocaleString('en-US')} ` +
          'later log records (puts over existing keys), then restore and replay into the toy KV.\n\n' +
          markdownTable(
            ['step', 'time (ms)'],
            [
              ['open: epochs, newest valid snapshot (read + verify), log scan', openMs.toFixed(0)],
              ['restore snapshot into the state machine', (recovery.value.restored_ms - recovery.value.opened_ms).toFixed(0)],
              [`replay ${REPLAY_COUNT.toLocaleString('en-US')} log records`, (recovery.value.replayed_ms - recovery.value.restored_ms).toFixed(0)],
              ['recovery total', recovery.ms.toFixed(0)],
            ],
          ),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function zabstoreBench(_options: BenchOptions): Promise<BenchSection[]> {
  return [await appendSection(), ...(await snapshotSections())];
}
