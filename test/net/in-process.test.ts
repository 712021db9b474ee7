import t from 'tap';
import { createLogger } from '../../logging/logger.js';
import { InProcessBus } from '../../net/in-process.js';
import type { InboundMessage } from '../../net/transport.js';
import { waitFor } from '../support/wait.js';
import { transportSuite } from './transport-suite.js';

const logger = createLogger({ role: 'test' }, { level: process.env.LOG_LEVEL ?? 'silent' });

transportSuite('in-process', () => {
  const bus = new InProcessBus();
  return { connect: async () => bus.connect({ logger }) };
});

t.test('in-process: publish never delivers inside the publish call', async (t) => {
  const bus = new InProcessBus();
  const transport = bus.connect({ logger });
  t.teardown(() => transport.close());
  const received: unknown[] = [];
  transport.subscribe('x.y', (message) => { received.push(message.data); });
  transport.publish('x.y', 1);
  t.same(received, [], 'nothing delivered synchronously');
  await waitFor('the message', () => received.length === 1, 5000);
  t.same(received, [1]);
});

t.test('in-process: a subscriber gets its own copy of the message', async (t) => {
  const bus = new InProcessBus();
  const transport = bus.connect({ logger });
  t.teardown(() => transport.close());
  const sent = { list: [1, 2] };
  let received: InboundMessage | undefined;
  transport.subscribe('x.y', (message) => { received = message; });
  transport.publish('x.y', sent);
  sent.list.push(3);
  const message = await waitFor('the message', () => received, 5000);
  t.same(message.data, { list: [1, 2] });
});

t.test('in-process: messages published by handlers keep each sender\'s order', async (t) => {
  const bus = new InProcessBus();
  const [a, b] = [bus.connect({ logger }), bus.connect({ logger })];
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const received: string[] = [];
  b.subscribe('out', (message) => { received.push(message.data as string); });
  // Each incoming message makes b publish two more, interleaved with a's own publishes.
  b.subscribe('in', (message) => {
    b.publish('out', `${String(message.data)}-1`);
    b.publish('out', `${String(message.data)}-2`);
  });
  for (let i = 0; i < 5; i += 1) {
    a.publish('in', `m${i}`);
    a.publish('out', `a${i}`);
  }
  await waitFor('15 messages', () => received.length === 15, 5000);
  t.same(received.filter((x) => x.startsWith('a')), ['a0', 'a1', 'a2', 'a3', 'a4']);
  t.same(received.filter((x) => x.startsWith('m')), ['m0-1', 'm0-2', 'm1-1', 'm1-2', 'm2-1', 'm2-2', 'm3-1', 'm3-2', 'm4-1', 'm4-2']);
});

t.test('in-process: an unconsumed stream keeps at most max_pending messages', async (t) => {
  const bus = new InProcessBus();
  const transport = bus.connect({ logger, max_pending: 3 });
  t.teardown(() => transport.close());
  const stream = transport.subscribe('x.y');
  for (let i = 0; i < 5; i += 1) transport.publish('x.y', i);
  await transport.flush();
  stream.unsubscribe();
  const kept: unknown[] = [];
  for await (const message of stream) kept.push(message.data);
  t.same(kept, [0, 1, 2]);
});

t.test('in-process: closing one transport leaves the others on the bus working', async (t) => {
  const bus = new InProcessBus();
  const [a, b, c] = [bus.connect({ logger }), bus.connect({ logger }), bus.connect({ logger })];
  t.teardown(() => Promise.all([a.close(), c.close()]));
  a.serve('svc', () => 'ok');
  await b.close();
  t.equal(await c.request('svc', {}, { timeout_ms: 1000 }), 'ok');
});
