import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { makeTempDir } from '../support/tmpdir.js';
import type { LogRecord } from '../../zab/storage/log-record.js';
import type { SnapshotSink, SnapshotSource } from '../../zab/storage/snapshot-file.js';

/** A logger whose JSON lines are kept in `lines` for assertions. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export function warnings(lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return lines.filter((line) => line.level === 40);
}

export const EPOCH = 2 ** 32;

export function zxid(epoch: number, counter: number): number {
  return epoch * EPOCH + counter;
}

/** Records for zxids epoch 1, counters from..to inclusive, payload "txn-<counter>" padded to `size`. */
export function records(from: number, to: number, size = 16): LogRecord[] {
  const out: LogRecord[] = [];
  for (let counter = from; counter <= to; counter += 1) {
    out.push({ zxid: zxid(1, counter), payload: new TextEncoder().encode(`txn-${counter}`.padEnd(size, '.')) });
  }
  return out;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export type KvTxn = { op: 'put'; key: string; value: string } | { op: 'del'; key: string };

export function encodeTxn(txn: KvTxn): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(txn));
}

/** A toy idempotent KV state machine: each transaction sets or removes one key. */
export class ToyKv implements SnapshotSource, SnapshotSink {
  readonly entries = new Map<string, string>();
  appliedCount = 0;

  constructor(private readonly entriesPerChunk = 4) {}

  apply(payload: Uint8Array): void {
    const txn = JSON.parse(new TextDecoder().decode(payload)) as KvTxn;
    this.appliedCount += 1;
    if (txn.op === 'put') this.entries.set(txn.key, txn.value);
    else this.entries.delete(txn.key);
  }

  *snapshotChunks(): Iterable<Uint8Array> {
    let batch: Array<[string, string]> = [];
    // Map iteration is live: entries changed between chunks may or may not be seen (fuzzy).
    for (const entry of this.entries) {
      batch.push(entry);
      if (batch.length === this.entriesPerChunk) {
        yield new TextEncoder().encode(JSON.stringify(batch));
        batch = [];
      }
    }
    if (batch.length > 0) yield new TextEncoder().encode(JSON.stringify(batch));
  }

  restoreChunks(chunks: Iterable<Uint8Array>): void {
    this.entries.clear();
    for (const chunk of chunks) {
      for (const [key, value] of JSON.parse(new TextDecoder().decode(chunk)) as Array<[string, string]>) {
        this.entries.set(key, value);
      }
    }
  }
}

/** A fresh temp dir removed when the test `t` ends. */
export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'zabstore'): string {
  const { dir, cleanup } = makeTempDir(prefix);
  t.teardown(cleanup);
  return dir;
}
