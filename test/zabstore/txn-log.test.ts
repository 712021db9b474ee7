import { readFileSync } from 'node:fs';
import t from 'tap';
import { loadChecksum } from '../../zab/storage/checksum.js';
import { decodeRecordAt } from '../../zab/storage/log-record.js';
import { TxnLog } from '../../zab/storage/txn-log.js';
import { captureLogger, collect, records, tempDir, zxid } from './fixtures.js';

t.test('appended records read back in order with their payloads, also after reopening', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const log = await TxnLog.open(dir, { logger });
  const written = records(1, 50);
  await log.append(written.slice(0, 20));
  await log.append(written.slice(20));
  t.equal(log.lastZxid, zxid(1, 50));
  t.equal(log.firstZxid, zxid(1, 1));
  t.same(await collect(log.readFrom(0)), written);
  await log.close();
  const reopened = await TxnLog.open(dir, { logger });
  t.teardown(() => reopened.close());
  t.same(await collect(reopened.readFrom(0)), written);
  t.equal(reopened.lastZxid, zxid(1, 50));
});

t.test('readFrom yields only records with a larger zxid', async (t) => {
  const log = await TxnLog.open(tempDir(t), { logger: captureLogger().logger });
  t.teardown(() => log.close());
  await log.append(records(1, 10));
  const read = await collect(log.readFrom(zxid(1, 7)));
  t.same(read.map((record) => record.zxid), [zxid(1, 8), zxid(1, 9), zxid(1, 10)]);
  t.same(await collect(log.readFrom(zxid(1, 10))), []);
});

t.test('an append that does not increase the zxid is refused', async (t) => {
  const log = await TxnLog.open(tempDir(t), { logger: captureLogger().logger });
  t.teardown(() => log.close());
  await log.append(records(1, 5));
  t.throws(() => log.append(records(5, 6)), { code: 'INTERNAL' });
  t.throws(() => log.append([...records(7, 7), ...records(6, 6)]), { code: 'INTERNAL' });
  t.equal(log.lastZxid, zxid(1, 5));
});

t.test('concurrent appends share fsyncs, and each resolves only after an fsync covering it', async (t) => {
  const dir = tempDir(t);
  const checksum = await loadChecksum();
  let durableZxid = 0;
  let log: TxnLog | undefined;
  // Reads the segment back after each real fsync to learn which zxids that fsync covered.
  const syncData = async (handle: import('node:fs/promises').FileHandle): Promise<void> => {
    await handle.datasync();
    const bytes = new Uint8Array(readFileSync(log!.segmentFiles().at(-1)!));
    let at = 0;
    for (;;) {
      const decoded = decodeRecordAt(checksum, bytes, at);
      if (decoded.status !== 'ok') break;
      durableZxid = decoded.zxid;
      at = decoded.end;
    }
  };
  log = await TxnLog.open(dir, { logger: captureLogger().logger, syncData });
  t.teardown(() => log!.close());
  const appends = records(1, 256);
  const resolvedBeforeDurable: number[] = [];
  await Promise.all(
    appends.map((record) =>
      log!.append([record]).then(() => {
        if (record.zxid > durableZxid) resolvedBeforeDurable.push(record.zxid);
      }),
    ),
  );
  t.same(resolvedBeforeDurable, [], 'no append resolved before an fsync covered it');
  t.equal(log.stats.appendCalls, 256);
  t.ok(log.stats.syncs <= 8, `256 concurrent appends took ${log.stats.syncs} fsyncs`);
  t.equal(log.stats.writes, log.stats.syncs, 'one write per fsync');
  t.same(await collect(log.readFrom(0)), appends);
});

t.test('appends issued one after another each get their own fsync', async (t) => {
  const log = await TxnLog.open(tempDir(t), { logger: captureLogger().logger });
  t.teardown(() => log.close());
  for (const record of records(1, 5)) await log.append([record]);
  t.equal(log.stats.syncs, 5);
});

t.test('the log rolls over to a new segment by size and reads across segments', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const log = await TxnLog.open(dir, { logger, segmentSize_bytes: 1000 });
  const written = records(1, 60, 64);
  for (let at = 0; at < written.length; at += 5) await log.append(written.slice(at, at + 5));
  const files = log.segmentFiles();
  t.ok(files.length >= 4, `${files.length} segments`);
  t.match(files[0]!, /log\.0000000100000001$/);
  t.same(await collect(log.readFrom(zxid(1, 13))), written.slice(13));
  await log.close();
  const reopened = await TxnLog.open(dir, { logger, segmentSize_bytes: 1000 });
  t.teardown(() => reopened.close());
  t.same(reopened.segmentFiles(), files);
  t.same(await collect(reopened.readFrom(0)), written);
});

t.test('truncateAfter drops later records durably, across segments, and appends continue', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const log = await TxnLog.open(dir, { logger, segmentSize_bytes: 500 });
  const written = records(1, 40, 64);
  for (let at = 0; at < written.length; at += 4) await log.append(written.slice(at, at + 4));
  const segmentsBefore = log.segmentFiles().length;
  await log.truncateAfter(zxid(1, 9));
  t.equal(log.lastZxid, zxid(1, 9));
  t.ok(log.segmentFiles().length < segmentsBefore, 'later segments deleted');
  const replacement = records(10, 12, 64).map((record) => ({ ...record, zxid: record.zxid + 2 ** 32 }));
  await log.append(replacement);
  await log.close();
  const reopened = await TxnLog.open(dir, { logger, segmentSize_bytes: 500 });
  t.teardown(() => reopened.close());
  t.same(await collect(reopened.readFrom(0)), [...written.slice(0, 9), ...replacement]);
});

t.test('truncateAfter queued behind appends applies after them, in call order', async (t) => {
  const log = await TxnLog.open(tempDir(t), { logger: captureLogger().logger });
  t.teardown(() => log.close());
  const first = log.append(records(1, 10));
  const truncated = log.truncateAfter(zxid(1, 4));
  const after = log.append(records(5, 6).map((record) => ({ ...record, payload: new Uint8Array([9]) })));
  await Promise.all([first, truncated, after]);
  const read = await collect(log.readFrom(0));
  t.same(read.map((record) => record.zxid), records(1, 6).map((record) => record.zxid));
  t.same([...read[5]!.payload], [9]);
});

t.test('purgeSegmentsBefore deletes only whole segments at or below the zxid', async (t) => {
  const log = await TxnLog.open(tempDir(t), { logger: captureLogger().logger, segmentSize_bytes: 400 });
  t.teardown(() => log.close());
  const written = records(1, 40, 64);
  for (let at = 0; at < written.length; at += 4) await log.append(written.slice(at, at + 4));
  const deleted = await log.purgeSegmentsBefore(zxid(1, 18));
  t.ok(deleted > 0, `${deleted} segments deleted`);
  const first = log.firstZxid!;
  t.ok(first <= zxid(1, 19), 'the record after the purge zxid is kept');
  t.same(await collect(log.readFrom(zxid(1, 18))), written.slice(18));
  await log.purgeSegmentsBefore(zxid(1, 1000));
  t.equal(log.segmentFiles().length, 1, 'the last segment is never purged');
  t.equal(log.lastZxid, zxid(1, 40));
});

t.test('reset empties the log and the next append must be above the reset zxid', async (t) => {
  const log = await TxnLog.open(tempDir(t), { logger: captureLogger().logger });
  t.teardown(() => log.close());
  await log.append(records(1, 10));
  await log.reset(zxid(2, 5));
  t.same(log.segmentFiles(), []);
  t.equal(log.lastZxid, zxid(2, 5));
  t.throws(() => log.append([{ zxid: zxid(2, 5), payload: new Uint8Array(1) }]), { code: 'INTERNAL' });
  await log.append([{ zxid: zxid(2, 6), payload: new Uint8Array(1) }]);
  t.equal(log.firstZxid, zxid(2, 6));
});

t.test('a failed fsync rejects the appends it covered and every later call until reopened', async (t) => {
  const dir = tempDir(t);
  let failSyncs = false;
  const log = await TxnLog.open(dir, {
    logger: captureLogger().logger,
    syncData: async (handle) => {
      if (failSyncs) throw new Error('EIO: simulated fsync failure');
      await handle.datasync();
    },
  });
  await log.append(records(1, 2));
  failSyncs = true;
  await t.rejects(log.append(records(3, 3)), { message: /EIO/ });
  t.throws(() => log.append(records(4, 4)), { code: 'UNAVAILABLE' });
  t.equal(log.lastZxid, zxid(1, 2), 'the failed batch is not counted as durable');
  await log.close();
  const reopened = await TxnLog.open(dir, { logger: captureLogger().logger });
  t.teardown(() => reopened.close());
  t.ok(reopened.lastZxid >= zxid(1, 2));
});
