import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ShardkvError } from '../../errors/codes.js';
import { RECORD_HEADER_BYTES } from '../../zab/storage/log-record.js';
import { TxnLog } from '../../zab/storage/txn-log.js';
import { captureLogger, collect, records, tempDir, warnings, zxid } from './fixtures.js';

const PAYLOAD_BYTES = 32;
const RECORD_BYTES = RECORD_HEADER_BYTES + PAYLOAD_BYTES;

/** A closed log of records 1..count (one segment unless segmentSize_bytes is small), and its files. */
async function writtenLog(dir: string, count: number, segmentSize_bytes?: number): Promise<string[]> {
  const log = await TxnLog.open(dir, { logger: captureLogger().logger, ...(segmentSize_bytes ? { segmentSize_bytes } : {}) });
  const written = records(1, count, PAYLOAD_BYTES);
  for (let at = 0; at < count; at += 5) await log.append(written.slice(at, at + 5));
  const files = log.segmentFiles();
  await log.close();
  return files;
}

function flipByte(file: string, offset: number): void {
  const bytes = readFileSync(file);
  bytes[offset] = bytes[offset]! ^ 0x5a;
  writeFileSync(file, bytes);
}

// Cut points inside the last record: in its length, checksum, zxid, and payload.
for (const cutInsideLast of [1, 4, 11, 19, 20, 35]) {
  t.test(`a tail torn ${cutInsideLast} bytes into the last record is truncated with a warning`, async (t) => {
    const dir = tempDir(t);
    const [file] = await writtenLog(dir, 10);
    truncateSync(file!, 9 * RECORD_BYTES + cutInsideLast);
    const { logger, lines } = captureLogger();
    const log = await TxnLog.open(dir, { logger });
    t.teardown(() => log.close());
    t.equal(log.lastZxid, zxid(1, 9));
    t.equal(statSync(file!).size, 9 * RECORD_BYTES, 'the torn bytes are gone from the file');
    const [warning] = warnings(lines);
    t.equal(warning?.file, file);
    t.equal(warning?.offset, 9 * RECORD_BYTES);
    await log.append(records(10, 11, PAYLOAD_BYTES));
    t.same((await collect(log.readFrom(0))).map((record) => record.zxid), records(1, 11).map((record) => record.zxid));
  });
}

t.test('garbage after the last record is truncated with a warning', async (t) => {
  const dir = tempDir(t);
  const [file] = await writtenLog(dir, 10);
  appendFileSync(file!, Buffer.from('not a record at all, just some bytes that a crash left here'));
  appendFileSync(file!, Buffer.alloc(4096));
  const { logger, lines } = captureLogger();
  const log = await TxnLog.open(dir, { logger });
  t.teardown(() => log.close());
  t.equal(log.lastZxid, zxid(1, 10));
  t.equal(warnings(lines)[0]?.offset, 10 * RECORD_BYTES);
  await log.append(records(11, 11, PAYLOAD_BYTES));
  t.equal((await collect(log.readFrom(0))).length, 11);
});

t.test('a bad checksum in the last record is a torn tail', async (t) => {
  const dir = tempDir(t);
  const [file] = await writtenLog(dir, 10);
  flipByte(file!, 9 * RECORD_BYTES + RECORD_HEADER_BYTES + 3);
  const { logger, lines } = captureLogger();
  const log = await TxnLog.open(dir, { logger });
  t.teardown(() => log.close());
  t.equal(log.lastZxid, zxid(1, 9));
  t.equal(warnings(lines).length, 1);
});

t.test('a corrupt record followed by valid ones stops recovery with CORRUPT_LOG naming file and offset', async (t) => {
  const dir = tempDir(t);
  const [file] = await writtenLog(dir, 10);
  const offset = 3 * RECORD_BYTES;
  flipByte(file!, offset + RECORD_HEADER_BYTES + 1);
  const error = await TxnLog.open(dir, { logger: captureLogger().logger }).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.ok(error instanceof ShardkvError, 'a ShardkvError');
  t.equal((error as ShardkvError).code, 'CORRUPT_LOG');
  t.match((error as ShardkvError).message, file!);
  t.match((error as ShardkvError).message, `byte offset ${offset}`);
  t.equal(statSync(file!).size, 10 * RECORD_BYTES, 'nothing was truncated');
});

t.test('a corrupt length field with valid records after it is CORRUPT_LOG, not a torn tail', async (t) => {
  const dir = tempDir(t);
  const [file] = await writtenLog(dir, 10);
  flipByte(file!, 2 * RECORD_BYTES + 3);
  await t.rejects(TxnLog.open(dir, { logger: captureLogger().logger }), {
    code: 'CORRUPT_LOG',
    message: new RegExp(`byte offset ${2 * RECORD_BYTES}`),
  });
});

t.test('a corrupt last record of a segment that is not the last is CORRUPT_LOG', async (t) => {
  const dir = tempDir(t);
  const files = await writtenLog(dir, 40, 300);
  t.ok(files.length >= 2);
  const first = files[0]!;
  const size = statSync(first).size;
  flipByte(first, size - 2);
  await t.rejects(TxnLog.open(dir, { logger: captureLogger().logger }), {
    code: 'CORRUPT_LOG',
    message: new RegExp(`${first}.*byte offset ${size - RECORD_BYTES}`),
  });
});

t.test('an empty last segment left by a crash after its creation is removed', async (t) => {
  const dir = tempDir(t);
  await writtenLog(dir, 10);
  const orphan = join(dir, `log.${zxid(1, 11).toString(16).padStart(16, '0')}`);
  writeFileSync(orphan, Buffer.alloc(0));
  const log = await TxnLog.open(dir, { logger: captureLogger().logger });
  t.teardown(() => log.close());
  t.equal(log.lastZxid, zxid(1, 10));
  t.same(readdirSync(dir), [`log.${zxid(1, 1).toString(16).padStart(16, '0')}`]);
  await log.append(records(11, 11, PAYLOAD_BYTES));
  t.equal(log.lastZxid, zxid(1, 11));
});
