/**
 * The behavioural suite every Transport implementation must pass. Called once per
 * implementation (in-process.test.ts, nats.test.ts) so both behave the same.
 */
import t from 'tap';
import { ShardkvError } from '../../errors/codes.js';
import { LeaderSubject } from '../../net/leader-subject.js';
import { Subjects } from '../../net/subjects.js';
import type { Envelope, InboundMessage, Transport } from '../../net/transport.js';
import { waitFor } from '../support/wait.js';

/** Connects transports that reach each other (same bus / same server). */
export interface TestNetwork {
  connect(): Promise<Transport>;
}

/** The part of a tap test the helpers below need. */
interface WithTeardown {
  teardown(cleanup: () => unknown): void;
}

let suiteRun = 0;

/** A network for one test plus a fresh subject namespace, with every transport closed in teardown. */
async function setUp(test: WithTeardown, makeNetwork: () => TestNetwork): Promise<{
  connect(): Promise<Transport>;
  subjects: Subjects;
}> {
  const network = makeNetwork();
  const opened: Transport[] = [];
  test.teardown(async () => {
    await Promise.all(opened.map((transport) => transport.close()));
  });
  suiteRun += 1;
  return {
    subjects: new Subjects(`test${process.pid}.run${suiteRun}`),
    async connect() {
      const transport = await network.connect();
      opened.push(transport);
      return transport;
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<ShardkvError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ShardkvError) return err;
    throw err;
  }
  throw new Error('expected the promise to reject');
}

function thrown(action: () => void): ShardkvError {
  try {
    action();
  } catch (err) {
    if (err instanceof ShardkvError) return err;
    throw err;
  }
  throw new Error('expected the call to throw');
}

/** A gate a handler can wait on; opened by the test (and always in teardown). */
function gate(test: WithTeardown): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => { open = resolve; });
  test.teardown(() => open());
  return { wait, open };
}

export function transportSuite(name: string, makeNetwork: () => TestNetwork): void {
  t.test(`${name}: publish delivers messages to a subscriber in publish order`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [sender, receiver] = [await connect(), await connect()];
    const subject = subjects.events('r1');
    const received: unknown[] = [];
    receiver.subscribe(subject, (message) => { received.push(message.data); });
    await receiver.flush();
    for (let seq = 0; seq < 200; seq += 1) sender.publish(subject, { seq });
    await waitFor('200 messages', () => received.length >= 200, 5000);
    t.same(received, Array.from({ length: 200 }, (_, seq) => ({ seq })));
  });

  t.test(`${name}: a message stream yields messages in order and ends on unsubscribe`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [sender, receiver] = [await connect(), await connect()];
    const subject = subjects.events('r1');
    const stream = receiver.subscribe(subject);
    await receiver.flush();
    for (let seq = 0; seq < 10; seq += 1) sender.publish(subject, seq);
    const received: unknown[] = [];
    for await (const message of stream) {
      received.push(message.data);
      t.equal(message.subject, subject);
      if (received.length === 10) stream.unsubscribe();
    }
    t.same(received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    t.ok(stream.isClosed);
  });

  t.test(`${name}: a wildcard subscription receives every matching subject`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [sender, receiver] = [await connect(), await connect()];
    const seen: string[] = [];
    receiver.subscribe(`${subjects.prefix}.events.*`, (message) => { seen.push(message.subject); });
    await receiver.flush();
    sender.publish(subjects.events('r1'), 1);
    sender.publish(subjects.groupLeader('g1'), 2);
    sender.publish(subjects.events('r2'), 3);
    await waitFor('two events', () => seen.length >= 2, 5000);
    await sender.flush();
    await receiver.flush();
    t.same(seen, [subjects.events('r1'), subjects.events('r2')]);
  });

  t.test(`${name}: queue group members share the messages, each message once`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [sender, first, second] = [await connect(), await connect(), await connect()];
    const subject = subjects.events('r1');
    const byFirst: number[] = [];
    const bySecond: number[] = [];
    first.subscribe(subject, (message) => { byFirst.push(message.data as number); }, { queue: 'workers' });
    second.subscribe(subject, (message) => { bySecond.push(message.data as number); }, { queue: 'workers' });
    await Promise.all([first.flush(), second.flush()]);
    for (let seq = 0; seq < 40; seq += 1) sender.publish(subject, seq);
    await waitFor('40 messages', () => byFirst.length + bySecond.length >= 40, 5000);
    t.same([...byFirst, ...bySecond].sort((x, y) => x - y), Array.from({ length: 40 }, (_, seq) => seq));
    t.ok(byFirst.length > 0 && bySecond.length > 0, `both members got messages (${byFirst.length}, ${bySecond.length})`);
  });

  t.test(`${name}: unsubscribe stops delivery`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [sender, receiver] = [await connect(), await connect()];
    const gone: unknown[] = [];
    const sentinel: unknown[] = [];
    const subscription = receiver.subscribe(subjects.events('r1'), (message) => { gone.push(message.data); });
    receiver.subscribe(subjects.events('r2'), (message) => { sentinel.push(message.data); });
    subscription.unsubscribe();
    await receiver.flush();
    sender.publish(subjects.events('r1'), 'lost');
    sender.publish(subjects.events('r2'), 'after');
    await waitFor('the sentinel', () => sentinel.length === 1, 5000);
    t.same(gone, []);
    t.ok(subscription.isClosed);
  });

  t.test(`${name}: request receives the reply of the served subject`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [client, server] = [await connect(), await connect()];
    const subject = subjects.metaLeader();
    server.serve(subject, (request, context) => ({ echo: request, subject: context.subject }));
    await server.flush();
    const reply = await client.request(subject, { op: 'get', path: '/a' }, { timeout_ms: 5000 });
    t.same(reply, { echo: { op: 'get', path: '/a' }, subject });
  });

  t.test(`${name}: a ShardkvError thrown by a handler reaches the requester with its code, message and details`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [client, server] = [await connect(), await connect()];
    const subject = subjects.groupLeader('g1');
    server.serve(subject, async () => {
      throw new ShardkvError('BAD_VERSION', 'version 3 expected, 4 found', { expected: 3, actual: 4, path: '/x' });
    });
    await server.flush();
    const error = await rejection(client.request(subject, {}, { timeout_ms: 5000 }));
    t.equal(error.code, 'BAD_VERSION');
    t.equal(error.message, 'version 3 expected, 4 found');
    t.same(error.details, { expected: 3, actual: 4, path: '/x' });
  });

  t.test(`${name}: any other handler failure reaches the requester as INTERNAL`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [client, server] = [await connect(), await connect()];
    const subject = subjects.groupLeader('g1');
    server.serve(subject, () => { throw new TypeError('boom'); });
    await server.flush();
    const error = await rejection(client.request(subject, {}, { timeout_ms: 5000 }));
    t.equal(error.code, 'INTERNAL');
    t.match(error.message, /boom/);
  });

  t.test(`${name}: a request nobody answers fails with TIMEOUT at its deadline`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [client, server] = [await connect(), await connect()];
    const subject = subjects.groupLeader('g1');
    const stuck = gate(t);
    server.serve(subject, () => stuck.wait);
    await server.flush();
    const started = Date.now();
    const error = await rejection(client.request(subject, {}, { timeout_ms: 300 }));
    const elapsed_ms = Date.now() - started;
    t.equal(error.code, 'TIMEOUT');
    t.same(error.details, { subject, timeout_ms: 300 });
    t.ok(elapsed_ms >= 290 && elapsed_ms <= 300 + 700, `failed after ${elapsed_ms} ms`);
    stuck.open();
  });

  t.test(`${name}: a request with no subscriber fails fast with UNAVAILABLE`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const client = await connect();
    const started = Date.now();
    const error = await rejection(client.request(subjects.groupLeader('g9'), {}, { timeout_ms: 10_000 }));
    const elapsed_ms = Date.now() - started;
    t.equal(error.code, 'UNAVAILABLE');
    t.equal(error.details?.noResponders, true);
    t.ok(elapsed_ms < 2000, `failed after ${elapsed_ms} ms, not at the 10 s deadline`);
  });

  t.test(`${name}: a request with no subscriber fails with the code the caller chose`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const client = await connect();
    const error = await rejection(client.request(subjects.metaLeader(), {}, { timeout_ms: 10_000, noRespondersCode: 'NO_LEADER' }));
    t.equal(error.code, 'NO_LEADER');
  });

  t.test(`${name}: leader subject handover: requests reach the new leader`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [client, first, second] = [await connect(), await connect(), await connect()];
    const subject = subjects.groupLeader('g1');
    const options = { timeout_ms: 5000, noRespondersCode: 'NO_LEADER' as const };
    const oldLeader = new LeaderSubject(first, subject, () => 'r1');
    const newLeader = new LeaderSubject(second, subject, () => 'r2');
    await oldLeader.setLeader(true);
    await newLeader.setLeader(false);
    t.equal(await client.request(subject, {}, options), 'r1');
    await oldLeader.setLeader(false);
    t.notOk(oldLeader.isServing);
    t.equal((await rejection(client.request(subject, {}, options))).code, 'NO_LEADER');
    await newLeader.setLeader(true);
    t.ok(newLeader.isServing);
    const replies = [];
    for (let i = 0; i < 5; i += 1) replies.push(await client.request(subject, {}, options));
    t.same(replies, ['r2', 'r2', 'r2', 'r2', 'r2']);
  });

  t.test(`${name}: binary data and integers up to 2^53 round trip in enveloped messages`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [client, server] = [await connect(), await connect()];
    const subject = subjects.peer('g1', 'r2');
    const data = new Uint8Array(70_000);
    for (let i = 0; i < data.length; i += 1) data[i] = (i * 31) % 256;
    const sent: Envelope<{ data: Uint8Array; zxid: number; negative: number; empty: Uint8Array }> = {
      ringVersion: 7,
      epoch: 2 ** 31 + 5,
      body: { data, zxid: 2 ** 53, negative: -(2 ** 53) + 1, empty: new Uint8Array(0) },
    };
    let published: InboundMessage | undefined;
    server.subscribe(subjects.events('r1'), (message) => { published = message; });
    server.serve(subject, (request) => request);
    await server.flush();
    const echoed = await client.request<typeof sent>(subject, sent, { timeout_ms: 5000 });
    client.publish(subjects.events('r1'), sent);
    const received = (await waitFor('the published message', () => published, 5000)).data as typeof sent;
    for (const copy of [echoed, received]) {
      t.ok(copy.body.data instanceof Uint8Array, 'binary arrives as a Uint8Array');
      t.equal(Buffer.compare(Buffer.from(copy.body.data), Buffer.from(data)), 0, 'same bytes');
      t.equal(copy.body.empty.length, 0);
      t.equal(copy.body.zxid, 2 ** 53);
      t.equal(copy.body.negative, -(2 ** 53) + 1);
      t.equal(copy.ringVersion, 7);
      t.equal(copy.epoch, 2 ** 31 + 5);
    }
  });

  t.test(`${name}: close lets a running request handler reply`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const [client, server] = [await connect(), await connect()];
    const subject = subjects.metaLeader();
    const release = gate(t);
    let started = false;
    server.serve(subject, async () => {
      started = true;
      await release.wait;
      return 'late reply';
    });
    await server.flush();
    const reply = client.request(subject, {}, { timeout_ms: 5000 });
    await waitFor('the handler to start', () => started, 5000);
    const closing = server.close();
    release.open();
    t.equal(await reply, 'late reply');
    await closing;
    t.ok(server.isClosed);
  });

  t.test(`${name}: after close the transport reports closed and refuses to send`, async (t) => {
    const { connect, subjects } = await setUp(t, makeNetwork);
    const transport = await connect();
    const stream = transport.subscribe(subjects.events('r1'));
    t.notOk(transport.isClosed);
    await transport.close();
    t.ok(transport.isClosed);
    await transport.closed();
    t.equal(thrown(() => transport.publish(subjects.events('r1'), 1)).code, 'CONNECTION_LOSS');
    t.equal((await rejection(transport.request(subjects.metaLeader(), {}, { timeout_ms: 1000 }))).code, 'CONNECTION_LOSS');
    const leftover: unknown[] = [];
    for await (const message of stream) leftover.push(message);
    t.same(leftover, [], 'the stream ended');
    await transport.close();
    t.ok(transport.isClosed, 'close is idempotent');
  });

  t.test(`${name}: invalid subjects are refused with BAD_ARGUMENTS`, async (t) => {
    const { connect } = await setUp(t, makeNetwork);
    const transport = await connect();
    t.equal(thrown(() => transport.publish('a.*.b', 1)).code, 'BAD_ARGUMENTS');
    t.equal(thrown(() => transport.publish('a..b', 1)).code, 'BAD_ARGUMENTS');
    t.equal(thrown(() => transport.subscribe('a.>.b')).code, 'BAD_ARGUMENTS');
    t.equal((await rejection(transport.request('a b', {}, { timeout_ms: 1000 }))).code, 'BAD_ARGUMENTS');
  });
}
