import t from 'tap';
import { SessionEventQueue } from '../../router/http/session-event-queue.js';
import type { SessionWatchEvent } from '../../router/http/backend.js';

const event = (zxid: number): SessionWatchEvent => ({ type: 'NodeDataChanged', path: '/a', zxid });

async function drain(queue: SessionEventQueue): Promise<number[]> {
  const zxids: number[] = [];
  for await (const next of queue) zxids.push(next.zxid);
  return zxids;
}

t.test('events pushed before the end are delivered in order, then the iteration ends', async (t) => {
  const queue = new SessionEventQueue(new AbortController().signal);
  queue.push(event(1));
  queue.push(event(2));
  queue.end();
  queue.push(event(3));
  t.same(await drain(queue), [1, 2]);
});

t.test('a waiting consumer gets a pushed event at once', async (t) => {
  const queue = new SessionEventQueue(new AbortController().signal);
  const iterator = queue[Symbol.asyncIterator]();
  const pending = iterator.next();
  queue.push(event(7));
  t.same(await pending, { value: event(7), done: false });
});

t.test('a consumer too far behind is ended, keeping what it had', async (t) => {
  let ends = 0;
  const queue = new SessionEventQueue(new AbortController().signal, 2, () => (ends += 1));
  for (let zxid = 1; zxid <= 4; zxid += 1) queue.push(event(zxid));
  t.equal(queue.overflowed, true);
  t.equal(ends, 1);
  t.same(await drain(queue), [1, 2]);
});

t.test('aborting the signal ends a waiting consumer', async (t) => {
  const abort = new AbortController();
  const queue = new SessionEventQueue(abort.signal);
  const pending = queue[Symbol.asyncIterator]().next();
  abort.abort();
  t.equal((await pending).done, true);
  t.equal(queue.isEnded, true);
});

t.test('an already aborted signal gives an ended queue', async (t) => {
  const abort = new AbortController();
  abort.abort();
  t.equal(new SessionEventQueue(abort.signal).isEnded, true);
});

t.test('leaving a for-await loop ends the queue', async (t) => {
  const queue = new SessionEventQueue(new AbortController().signal);
  queue.push(event(1));
  for await (const next of queue) {
    t.equal(next.zxid, 1);
    break;
  }
  t.equal(queue.isEnded, true);
});
