import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ShardkvError } from '../../errors/codes.js';
import { createLogger } from '../../logging/logger.js';
import { connectNats } from '../../net/nats.js';
import { freePort, startNatsServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait.js';
import { transportSuite } from './transport-suite.js';

const logger = createLogger({ role: 'test' }, { level: process.env.LOG_LEVEL ?? 'silent' });
const server = await startNatsServer();
t.teardown(() => server.stop());

transportSuite('nats', () => ({ connect: () => connectNats({ servers: server.url, logger }) }));

t.test('nats: connecting where no server listens fails with CONNECTION_LOSS', async (t) => {
  const port = await freePort();
  try {
    const transport = await connectNats({ servers: `nats://127.0.0.1:${port}`, logger, connect_timeout_ms: 2000 });
    await transport.close();
    t.fail('connected to nothing');
  } catch (err) {
    t.ok(err instanceof ShardkvError && err.code === 'CONNECTION_LOSS', String(err));
  }
});

t.test('nats: losing the server is logged as a status event and the client keeps reconnecting', async (t) => {
  const ownServer = await startNatsServer();
  t.teardown(() => ownServer.stop());
  const lines: Array<{ msg?: string; type?: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const transport = await connectNats({ servers: ownServer.url, logger: pino({ level: 'debug' }, sink), reconnect_wait_ms: 50 });
  t.teardown(() => transport.close());
  await ownServer.stop();
  await waitFor('a disconnect status line', () => lines.some((line) => line.msg === 'nats status' && line.type === 'disconnect'), 5000);
  t.notOk(transport.isClosed, 'still open: reconnecting, not closed');
  await transport.close();
  t.ok(transport.isClosed);
});
