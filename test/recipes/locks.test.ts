/**
 * DistributedLock (Curator's InterProcessMutex) and ReadWriteLock (InterProcessReadWriteLock)
 * over a whole embedded cluster: mutual exclusion, no herd, timeouts, reentrancy, release on
 * session expiry, shared readers and exclusive writers.
 */
import t from 'tap';
import { ShardkvClient } from '../../client/index.js';
import { DistributedLock, ReadWriteLock, SessionWatches } from '../../client/recipes/index.js';
import { startEmbeddedCluster } from '../support/embedded-cluster.js';
import { waitFor } from '../support/wait.js';
import { openCuttableSession, openSession, openSessions, within } from './sessions.js';

const cluster = await startEmbeddedCluster(t);
const client = new ShardkvClient({ url: cluster.routerUrl, timeout_ms: 10_000 });

t.test('contenders hold the lock one at a time and each release wakes only the next', async (t) => {
  const contenders = 5;
  const sessions = await openSessions(t, cluster.routerUrl, contenders);
  const watches = await Promise.all(sessions.map((session) => SessionWatches.for(session)));
  const locks = sessions.map((session) => new DistributedLock(session, '/locks/mutex'));
  await client.create('/locks-data/counter', '0');
  let inside = 0;
  let maxInside = 0;
  const criticalSection = async (): Promise<void> => {
    inside += 1;
    maxInside = Math.max(maxInside, inside);
    // A read-modify-write without a version: only exclusion keeps it from losing updates.
    const value = Number((await client.get('/locks-data/counter')).text);
    await client.set('/locks-data/counter', String(value + 1));
    inside -= 1;
  };
  t.equal(await locks[0]!.acquire(), true, 'the first contender takes the free lock');
  const waiters = locks.slice(1).map(async (lock) => {
    await lock.acquire();
    await criticalSection();
    await lock.release();
  });
  await waitFor('every other contender to wait with its watch set', () => locks.slice(1).every((lock) => lock.phase === 'waiting'), 15_000);
  t.same(watches.map((w) => w.eventsReceived), [0, 0, 0, 0, 0], 'no event before the first release');
  await criticalSection();
  await locks[0]!.release();
  await within('every contender to take and release the lock', Promise.all(waiters), 20_000);
  t.equal(maxInside, 1, 'never two contenders in the critical section');
  t.equal((await client.get('/locks-data/counter')).text, String(contenders), 'no update lost');
  t.same(watches.map((w) => w.eventsReceived), [0, 1, 1, 1, 1], 'each waiter was woken exactly once: one watch fired per release');
  t.same(await locks[0]!.participants(), [], 'no lock node left');
});

t.test('acquire with a timeout gives up and removes its node while another holds the lock', async (t) => {
  const [holderSession, otherSession] = await openSessions(t, cluster.routerUrl, 2);
  const holder = new DistributedLock(holderSession!, '/locks/timeout');
  const other = new DistributedLock(otherSession!, '/locks/timeout');
  t.equal(await holder.acquire(), true);
  const started = Date.now();
  t.equal(await other.acquire({ timeout_ms: 300 }), false, 'the acquire times out');
  t.ok(Date.now() - started >= 300, 'not before its timeout');
  t.equal(other.isHeld, false);
  t.same((await holder.participants()).length, 1, "the timed-out contender's node is gone");
  await holder.release();
  t.equal(await other.acquire({ timeout_ms: 10_000 }), true, 'the lock is free after the release');
  await other.release();
});

t.test('the lock is reentrant per lock object and a release of a lock not held throws', async (t) => {
  const session = await openSession(t, cluster.routerUrl);
  const lock = new DistributedLock(session, '/locks/reentrant');
  t.equal(await lock.acquire(), true);
  const node = lock.nodePath;
  t.equal(await lock.acquire({ timeout_ms: 100 }), true, 'acquired again at once');
  t.equal(lock.nodePath, node, 'on the same node');
  await lock.release();
  t.equal(lock.isHeld, true, 'still held after one of two releases');
  t.not(await client.exists(node!), null, 'its node is still there');
  await lock.release();
  t.equal(lock.isHeld, false);
  t.equal(await client.exists(node!), null, 'the last release deletes the node');
  await t.rejects(lock.release(), { code: 'NOT_HELD' });
});

t.test("a holder's session expiry releases the lock to the waiting contender", async (t) => {
  const { session: holderSession, proxy } = await openCuttableSession(t, cluster.routerUrl);
  const waiterSession = await openSession(t, cluster.routerUrl);
  const holder = new DistributedLock(holderSession, '/locks/expiry');
  const waiter = new DistributedLock(waiterSession, '/locks/expiry');
  t.equal(await holder.acquire(), true);
  const acquired = waiter.acquire({ timeout_ms: 20_000 });
  await waitFor('the waiter to wait', () => waiter.phase === 'waiting', 10_000);
  proxy.cut();
  t.equal(await acquired, true, "the waiter takes the lock once the holder's session expired");
  t.equal(await client.exists(holder.nodePath!), null, "the holder's node is gone");
  await waiter.release();
});

t.test('readers share the read lock', async (t) => {
  const sessions = await openSessions(t, cluster.routerUrl, 3);
  const readers = sessions.map((session) => new ReadWriteLock(session, '/locks/rw-share').readLock);
  const results = await within('three readers to hold the read lock together', Promise.all(readers.map((lock) => lock.acquire({ timeout_ms: 10_000 }))), 15_000);
  t.same(results, [true, true, true], 'every reader holds it');
  t.ok(readers.every((lock) => lock.isHeld), 'all at the same time');
  for (const lock of readers) await lock.release();
});

t.test('a writer excludes readers and writers, and waits for earlier readers', async (t) => {
  const [a, b, c] = await openSessions(t, cluster.routerUrl, 3);
  const rwA = new ReadWriteLock(a!, '/locks/rw-exclusive');
  const rwB = new ReadWriteLock(b!, '/locks/rw-exclusive');
  const rwC = new ReadWriteLock(c!, '/locks/rw-exclusive');
  t.equal(await rwA.writeLock.acquire(), true, 'a writer takes the free lock');
  t.equal(await rwB.readLock.acquire({ timeout_ms: 300 }), false, 'a reader waits for the writer');
  t.equal(await rwC.writeLock.acquire({ timeout_ms: 300 }), false, 'another writer waits for the writer');
  const reading = rwB.readLock.acquire({ timeout_ms: 10_000 });
  await waitFor('the reader to wait', () => rwB.readLock.phase === 'waiting', 10_000);
  await rwA.writeLock.release();
  t.equal(await reading, true, 'the reader gets in once the writer released');
  t.equal(await rwC.writeLock.acquire({ timeout_ms: 300 }), false, 'a writer waits for the reader');
  const writing = rwC.writeLock.acquire({ timeout_ms: 10_000 });
  await waitFor('the writer to wait', () => rwC.writeLock.phase === 'waiting', 10_000);
  await rwB.readLock.release();
  t.equal(await writing, true, 'the writer gets in once the reader released');
  await rwC.writeLock.release();
});
