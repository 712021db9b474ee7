/**
 * DistributedBarrier, DistributedDoubleBarrier and DistributedQueue (Curator's recipes of the
 * same names) over a whole embedded cluster.
 */
import t from 'tap';
import { ShardkvClient } from '../../client/index.js';
import { DistributedBarrier, DistributedDoubleBarrier, DistributedQueue } from '../../client/recipes/index.js';
import { startEmbeddedCluster } from '../support/embedded-cluster.js';
import { waitFor } from '../support/wait.js';
import { openSession, openSessions, within } from './sessions.js';

const cluster = await startEmbeddedCluster(t);
const client = new ShardkvClient({ url: cluster.routerUrl, timeout_ms: 10_000 });

t.test('waiters on a barrier are held until it is removed, then all go', async (t) => {
  const sessions = await openSessions(t, cluster.routerUrl, 4);
  const coordinator = new DistributedBarrier(sessions[0]!, '/barriers/start');
  await coordinator.setBarrier();
  const waiters = sessions.slice(1).map((session) => new DistributedBarrier(session, '/barriers/start'));
  t.equal(await waiters[0]!.waitOnBarrier(300), false, 'a wait times out while the barrier stands');
  let released = 0;
  const waiting = waiters.map(async (barrier) => {
    const result = await barrier.waitOnBarrier(20_000);
    released += 1;
    return result;
  });
  await client.exists('/barriers/start');
  t.equal(released, 0, 'nobody passes while the barrier stands');
  await coordinator.removeBarrier();
  t.same(await within('every waiter to pass', Promise.all(waiting), 20_000), [true, true, true]);
});

t.test('double barrier members enter together and leave together', async (t) => {
  const members = 3;
  const sessions = await openSessions(t, cluster.routerUrl, members);
  const barriers = sessions.map((session) => new DistributedDoubleBarrier(session, '/barriers/double', members));
  let entered = 0;
  const enter = (barrier: DistributedDoubleBarrier): Promise<boolean> => barrier.enter(20_000).then((result) => {
    entered += 1;
    return result;
  });
  const early = barriers.slice(0, 2).map(enter);
  await waitFor('two members in the barrier', async () => (await client.children('/barriers/double')).children.length === 2, 10_000);
  t.equal(entered, 0, 'nobody enters before the last member');
  const last = enter(barriers[2]!);
  t.same(await within('every member to enter', Promise.all([...early, last]), 20_000), [true, true, true], 'all enter');
  t.ok((await client.children('/barriers/double')).children.includes('ready'), 'the ready node exists');
  let left = 0;
  const leave = (barrier: DistributedDoubleBarrier): Promise<boolean> => barrier.leave(20_000).then((result) => {
    left += 1;
    return result;
  });
  const leaving = barriers.slice(0, 2).map(leave);
  await waitFor('a member node to go', async () => (await client.children('/barriers/double')).children.filter((n) => n !== 'ready').length < members, 10_000);
  t.equal(left, 0, 'nobody has left before the last member leaves');
  const lastLeave = leave(barriers[2]!);
  t.same(await within('every member to leave', Promise.all([...leaving, lastLeave]), 20_000), [true, true, true], 'all leave');
  t.same((await client.children('/barriers/double')).children, [], 'no node left, ready included');
});

t.test('a queue hands items out in FIFO order, and take() waits for a put', async (t) => {
  const session = await openSession(t, cluster.routerUrl);
  const queue = new DistributedQueue<{ n: number }>(session, '/queues/fifo');
  for (let n = 0; n < 5; n++) await queue.put({ n });
  t.equal(await queue.size(), 5);
  const taken: number[] = [];
  for (let i = 0; i < 5; i++) taken.push((await queue.poll())!.n);
  t.same(taken, [0, 1, 2, 3, 4], 'in the order put');
  t.equal(await queue.poll(), undefined, 'poll of an empty queue is undefined');
  t.equal(await queue.take({ timeout_ms: 200 }), undefined, 'take times out on an empty queue');
  const waiting = queue.take({ timeout_ms: 20_000 });
  await new DistributedQueue<{ n: number }>(await openSession(t, cluster.routerUrl), '/queues/fifo').put({ n: 99 });
  t.same(await waiting, { n: 99 }, 'a waiting take gets the next put');
});

t.test('concurrent consumers take each item exactly once', async (t) => {
  const items = 20;
  const producer = new DistributedQueue<number>(await openSession(t, cluster.routerUrl), '/queues/shared');
  for (let n = 0; n < items; n++) await producer.put(n);
  const consumers = (await openSessions(t, cluster.routerUrl, 3)).map((session) => new DistributedQueue<number>(session, '/queues/shared'));
  const received = await within('the consumers to drain the queue', Promise.all(consumers.map(async (queue) => {
    const mine: number[] = [];
    for (let i = 0; i <= items; i++) {
      const item = await queue.poll();
      if (item === undefined) break;
      mine.push(item);
    }
    return mine;
  })), 30_000);
  const all = received.flat().sort((a, b) => a - b);
  t.same(all, Array.from({ length: items }, (_, n) => n), 'every item taken once, none twice');
  for (const mine of received) t.same(mine, [...mine].sort((a, b) => a - b), 'each consumer gets items in queue order');
});
