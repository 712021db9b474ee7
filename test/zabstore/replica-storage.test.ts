import { truncateSync } from 'node:fs';
import t from 'tap';
import type { LogRecord } from '../../zab/storage/log-record.js';
import { ReplicaStorage } from '../../zab/storage/replica-storage.js';
import { captureLogger, collect, encodeTxn, EPOCH, tempDir, ToyKv, type KvTxn } from './fixtures.js';

/**
 * A deterministic mix of puts, overwrites and deletes over 60 keys, zxids epoch 1 counters
 * from..to. Counters 1..60 fill k0..k59 in order; 61..120 revisit them in reverse order (so a
 * snapshot iterating forward meets changes on both sides of its cursor); later ones restart.
 */
function kvRecords(from: number, to: number): LogRecord[] {
  const out: LogRecord[] = [];
  for (let counter = from; counter <= to; counter += 1) {
    const key = `k${counter > 60 && counter <= 120 ? (180 - counter) % 60 : counter % 60}`;
    const txn: KvTxn = counter % 5 === 0 && counter > 60 ? { op: 'del', key } : { op: 'put', key, value: `v${counter}` };
    out.push({ zxid: EPOCH + counter, payload: encodeTxn(txn) });
  }
  return out;
}

/** Applies and appends records one per event-loop turn (appends pipelined), as a busy replica would. */
async function serve(storage: ReplicaStorage, kv: ToyKv, pending: LogRecord[]): Promise<void> {
  const appends: Array<Promise<void>> = [];
  for (const record of pending) {
    kv.apply(record.payload);
    appends.push(storage.log.append([record]));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await Promise.all(appends);
}

async function recoverInto(storage: ReplicaStorage): Promise<ToyKv> {
  const kv = new ToyKv();
  const { snapshot, records } = storage.recovered;
  if (snapshot !== undefined) kv.restoreChunks(snapshot.chunks);
  for await (const record of records) kv.apply(record.payload);
  return kv;
}

t.test('recovery restores the fuzzy snapshot and replays the log after it to the exact state', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const storage = await ReplicaStorage.open(dir, { logger, segmentSize_bytes: 2000 });
  await storage.writeEpochs({ acceptedEpoch: 1 });
  await storage.writeEpochs({ currentEpoch: 1 });
  const kv = new ToyKv(2);
  await serve(storage, kv, kvRecords(1, 60));
  // The snapshot is labelled 60 (applied when it starts); 61..120 are applied while it is
  // written. The source itself applies one of them before each chunk, so the interleaving does
  // not depend on how the writer schedules its reads (it did, and a quiet machine lost the race).
  const during = kvRecords(61, 120);
  const appends: Array<Promise<void>> = [];
  const appliedAtChunk: number[] = [];
  const watched = {
    *snapshotChunks(): Iterable<Uint8Array> {
      for (const chunk of kv.snapshotChunks()) {
        const next = during.shift();
        if (next !== undefined) {
          kv.apply(next.payload);
          appends.push(storage.log.append([next]));
        }
        appliedAtChunk.push(kv.appliedCount);
        yield chunk;
      }
    },
  };
  await storage.takeSnapshot(EPOCH + 60, watched);
  await serve(storage, kv, during);
  await Promise.all(appends);
  t.ok(appliedAtChunk.at(-1)! > appliedAtChunk[0]!, 'transactions were applied between snapshot chunks');
  await serve(storage, kv, kvRecords(121, 130));
  await storage.close();

  const reopened = await ReplicaStorage.open(dir, { logger, segmentSize_bytes: 2000 });
  t.teardown(() => reopened.close());
  t.equal(reopened.recovered.acceptedEpoch, 1);
  t.equal(reopened.recovered.currentEpoch, 1);
  t.equal(reopened.recovered.snapshot?.zxid, EPOCH + 60);
  t.equal(reopened.recovered.lastZxid, EPOCH + 130);
  const restored = await recoverInto(reopened);
  t.same([...restored.entries].sort(), [...kv.entries].sort());
});

t.test('a new replica recovers to nothing: epochs 0, no snapshot, no records', async (t) => {
  const storage = await ReplicaStorage.open(tempDir(t), { logger: captureLogger().logger });
  t.teardown(() => storage.close());
  t.same(
    { ...storage.recovered, records: await collect(storage.recovered.records) },
    { acceptedEpoch: 0, currentEpoch: 0, records: [], lastZxid: 0 },
  );
});

t.test('purge keeps what recovery needs: a corrupt newest snapshot falls back to a retained older one', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const storage = await ReplicaStorage.open(dir, { logger, segmentSize_bytes: 600, snapshotRetain: 2 });
  const kv = new ToyKv(3);
  for (let round = 0; round < 4; round += 1) {
    await serve(storage, kv, kvRecords(round * 30 + 1, round * 30 + 30));
    await storage.takeSnapshot(EPOCH + round * 30 + 30, kv);
  }
  await serve(storage, kv, kvRecords(121, 125));
  t.same(await storage.snapshots.zxids(), [EPOCH + 120, EPOCH + 90]);
  const firstLogZxid = storage.log.firstZxid!;
  t.ok(firstLogZxid > EPOCH + 1, 'old segments were purged');
  t.ok(firstLogZxid <= EPOCH + 91, 'the record after the oldest kept snapshot is kept');
  await storage.close();

  truncateSync(storage.snapshots.pathOf(EPOCH + 120), 100);
  const reopened = await ReplicaStorage.open(dir, { logger, segmentSize_bytes: 600, snapshotRetain: 2 });
  t.teardown(() => reopened.close());
  t.equal(reopened.recovered.snapshot?.zxid, EPOCH + 90);
  const restored = await recoverInto(reopened);
  t.same([...restored.entries].sort(), [...kv.entries].sort());
});

t.test('installSnapshot replaces the local history and the log continues after it', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const storage = await ReplicaStorage.open(dir, { logger, segmentSize_bytes: 500 });
  const local = new ToyKv();
  await serve(storage, local, kvRecords(1, 40));
  const leader = new ToyKv();
  leader.entries.set('leader-key', 'leader-value');
  const snapZxid = 2 * EPOCH + 3;
  await storage.installSnapshot(snapZxid, leader.snapshotChunks());
  t.same(storage.log.segmentFiles(), []);
  t.equal(storage.log.lastZxid, snapZxid);
  const next: LogRecord = { zxid: snapZxid + 1, payload: encodeTxn({ op: 'put', key: 'after', value: 'snap' }) };
  await storage.log.append([next]);
  await storage.close();

  const reopened = await ReplicaStorage.open(dir, { logger });
  t.teardown(() => reopened.close());
  t.equal(reopened.recovered.snapshot?.zxid, snapZxid);
  t.equal(reopened.recovered.lastZxid, snapZxid + 1);
  const restored = await recoverInto(reopened);
  t.same([...restored.entries].sort(), [['after', 'snap'], ['leader-key', 'leader-value']]);
});

t.test('a crash inside installSnapshot after the snapshot is durable drops the superseded log', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const storage = await ReplicaStorage.open(dir, { logger, segmentSize_bytes: 500 });
  await serve(storage, new ToyKv(), kvRecords(1, 40));
  // The first two steps of installSnapshot, then a "crash" before the log reset.
  const snapZxid = EPOCH + 30;
  await storage.log.truncateAfter(snapZxid);
  await storage.snapshots.write(snapZxid, [new TextEncoder().encode('[["only","leader"]]')], 'installed');
  await storage.close();

  const reopened = await ReplicaStorage.open(dir, { logger });
  t.teardown(() => reopened.close());
  t.same(reopened.log.segmentFiles(), []);
  t.same(await collect(reopened.recovered.records), []);
  t.equal(reopened.recovered.lastZxid, snapZxid);
  t.same([...(await recoverInto(reopened)).entries], [['only', 'leader']]);
  t.throws(() => reopened.log.append([{ zxid: snapZxid, payload: new Uint8Array(1) }]), { code: 'INTERNAL' });
});
