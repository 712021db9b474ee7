import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { SnapshotStore } from '../../zab/storage/snapshot-store.js';
import { captureLogger, EPOCH, tempDir, ToyKv, warnings } from './fixtures.js';

function chunksOf(...texts: string[]): Uint8Array[] {
  return texts.map((text) => new TextEncoder().encode(text));
}

function texts(chunks: Uint8Array[]): string[] {
  return chunks.map((chunk) => new TextDecoder().decode(chunk));
}

t.test('a written snapshot reads back with its zxid and chunks in order', async (t) => {
  const dir = tempDir(t);
  const store = await SnapshotStore.open(dir, { logger: captureLogger().logger });
  await store.write(EPOCH + 7, chunksOf('alpha', '', 'gamma'.repeat(1000)));
  const loaded = await store.newestValid();
  t.equal(loaded?.zxid, EPOCH + 7);
  t.equal(loaded?.origin, 'local');
  t.same(texts(loaded!.chunks), ['alpha', '', 'gamma'.repeat(1000)]);
  t.same(readdirSync(dir), ['snapshot.0000000100000007'], 'no temp file remains');
});

t.test('a snapshot with a corrupt chunk is skipped for the previous one, with a warning', async (t) => {
  const dir = tempDir(t);
  const { logger, lines } = captureLogger();
  const store = await SnapshotStore.open(dir, { logger });
  await store.write(EPOCH + 1, chunksOf('old'));
  const newest = await store.write(EPOCH + 2, chunksOf('new-1', 'new-2'));
  const bytes = readFileSync(newest);
  bytes[32 + 12 + 2] = bytes[32 + 12 + 2]! ^ 0xff;
  writeFileSync(newest, bytes);
  const loaded = await store.newestValid();
  t.equal(loaded?.zxid, EPOCH + 1);
  t.same(texts(loaded!.chunks), ['old']);
  t.match(String(warnings(lines)[0]?.err), /corrupt snapshot .*snapshot\.0000000100000002 at byte offset 32/);
});

t.test('a partially written snapshot (no trailer) is skipped for the previous one', async (t) => {
  const dir = tempDir(t);
  const store = await SnapshotStore.open(dir, { logger: captureLogger().logger });
  await store.write(EPOCH + 1, chunksOf('old'));
  const newest = await store.write(EPOCH + 2, chunksOf('new-1', 'new-2'));
  for (const cut of [10, 40, readFileSync(newest).length - 1]) {
    const whole = readFileSync(newest);
    truncateSync(newest, cut);
    t.equal((await store.newestValid())?.zxid, EPOCH + 1, `cut at ${cut}`);
    writeFileSync(newest, whole);
  }
  t.equal((await store.newestValid())?.zxid, EPOCH + 2, 'the restored file is valid again');
});

t.test('no valid snapshot at all gives undefined', async (t) => {
  const dir = tempDir(t);
  const store = await SnapshotStore.open(dir, { logger: captureLogger().logger });
  t.equal(await store.newestValid(), undefined);
  const only = await store.write(EPOCH + 1, chunksOf('x'));
  truncateSync(only, 20);
  t.equal(await store.newestValid(), undefined);
});

t.test('a temp file left by a crash during a snapshot write is removed on open', async (t) => {
  const dir = tempDir(t);
  writeFileSync(`${dir}/snapshot.0000000100000009.tmp`, 'half');
  const store = await SnapshotStore.open(dir, { logger: captureLogger().logger });
  t.same(readdirSync(dir), []);
  t.same(await store.zxids(), []);
});

t.test('purge keeps the newest N complete snapshots and returns the oldest kept zxid', async (t) => {
  const dir = tempDir(t);
  const store = await SnapshotStore.open(dir, { logger: captureLogger().logger });
  for (let counter = 1; counter <= 5; counter += 1) await store.write(EPOCH + counter, chunksOf(`s${counter}`));
  // The newest is incomplete: it does not count toward the retained ones.
  truncateSync(store.pathOf(EPOCH + 5), 50);
  t.equal(await store.purge(2), EPOCH + 3);
  t.same(await store.zxids(), [EPOCH + 5, EPOCH + 4, EPOCH + 3]);
  t.equal((await store.newestValid())?.zxid, EPOCH + 4);
});

t.test('the snapshot is written while the state machine keeps changing between chunks (fuzzy)', async (t) => {
  const dir = tempDir(t);
  const store = await SnapshotStore.open(dir, { logger: captureLogger().logger });
  const kv = new ToyKv(2);
  for (let index = 0; index < 20; index += 1) kv.entries.set(`k${index}`, `v${index}`);
  let chunksPulled = 0;
  let changesBetweenChunks = 0;
  const source = kv.snapshotChunks();
  const counted = (function* () {
    for (const chunk of source) {
      chunksPulled += 1;
      yield chunk;
    }
  })();
  // Something else runs on the event loop while the snapshot is written: it must get turns.
  let serving = true;
  const server = (async () => {
    for (let round = 0; serving && round < 1000; round += 1) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (chunksPulled > 0 && chunksPulled < 10) {
        kv.entries.set(`k${round % 20}`, `changed-${round}`);
        changesBetweenChunks += 1;
      }
    }
  })();
  await store.write(EPOCH + 20, counted);
  serving = false;
  await server;
  t.ok(changesBetweenChunks > 0, `${changesBetweenChunks} changes happened while the snapshot was written`);
  t.equal(chunksPulled, 10);
});
