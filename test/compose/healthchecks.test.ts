import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { describeTopology } from '../../cli/topology.js';
import { composeDocument, REPLICA_HEALTH_SCRIPT } from '../../compose/compose-file.js';
import { startNatsServer } from '../support/nats-server.js';
import { makeTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait.js';
import { CLI_MAIN, OUT_DIR } from './repo-files.js';

interface Healthcheck {
  test: string[];
}

const document = composeDocument(describeTopology({ groups: ['g1'], routers: 1 }), 7070) as unknown as {
  services: Record<string, { healthcheck: Healthcheck; environment: Record<string, string> }>;
};
const routerTest = (document.services['router-1'] as { healthcheck: Healthcheck }).healthcheck.test;
const metaService = document.services['meta-m1'] as { healthcheck: Healthcheck; environment: Record<string, string> };

/** Runs a healthcheck's CMD (node ...) from the image's working directory layout: OUT_DIR stands for /app/dist. */
function runHealthcheck(test: string[], env: Record<string, string>): Promise<number | null> {
  const [kind, command, ...args] = test;
  if (kind !== 'CMD' || command !== 'node') throw new Error(`unexpected healthcheck ${test.join(' ')}`);
  const resolved = args.map((arg) => (arg === REPLICA_HEALTH_SCRIPT ? join(OUT_DIR, arg.replace(/^dist\//, '')) : arg));
  const scrubbed = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SHARDKV_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, resolved, { env: { ...scrubbed, ...env }, stdio: 'ignore' });
    child.once('error', reject);
    child.once('close', resolve);
  });
}

function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

t.test('the router healthcheck passes only when /healthz answers 2xx', async (t) => {
  const healthy = createServer((request, response) => { response.statusCode = request.url === '/healthz' ? 200 : 404; response.end('{}'); });
  const down = createServer((_request, response) => { response.statusCode = 503; response.end('{"status":"down"}'); });
  // Accepts and hangs up at once, like a published port whose container is not listening yet.
  const hangsUp = createTcpServer((socket) => socket.destroy());
  const ports = { healthy: await listen(healthy), down: await listen(down), hangsUp: await listen(hangsUp) };
  t.teardown(() => { healthy.close(); down.close(); hangsUp.close(); });
  t.equal(await runHealthcheck(routerTest, { SHARDKV_PORT: String(ports.healthy) }), 0, 'a 200 from /healthz is healthy');
  t.equal(await runHealthcheck(routerTest, { SHARDKV_PORT: String(ports.down) }), 1, 'a 503 is unhealthy');
  t.equal(await runHealthcheck(routerTest, { SHARDKV_PORT: String(ports.hangsUp) }), 1, 'a connection closed without an answer is unhealthy');
});

t.test('the replica healthcheck passes once the replica leads or follows, and fails for a replica nobody runs', async (t) => {
  const nats = await startNatsServer();
  t.teardown(() => nats.stop());
  const data = makeTempDir('compose-health');
  t.teardown(data.cleanup);
  const prefix = `compose-health-${process.pid}`;
  const replica: ChildProcess = spawn(process.execPath, [CLI_MAIN, 'meta'], {
    env: { ...process.env, SHARDKV_ID: 'm1', SHARDKV_PEERS: 'm1', SHARDKV_NATS: nats.url, SHARDKV_DATA: data.dir, SHARDKV_PREFIX: prefix, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => replica.once('exit', resolve));
  t.teardown(async () => {
    if (replica.exitCode === null && replica.signalCode === null) replica.kill('SIGKILL');
    await exited;
  });
  const env = { ...metaService.environment, SHARDKV_NATS: nats.url, SHARDKV_PREFIX: prefix };
  await waitFor('the meta replica healthy by its compose healthcheck', async () => (await runHealthcheck(metaService.healthcheck.test, env)) === 0, 30_000, 200);
  t.pass('the running replica is healthy');
  t.equal(await runHealthcheck(metaService.healthcheck.test, { ...env, SHARDKV_ID: 'm2' }), 1, 'a replica that does not run is unhealthy');
});
