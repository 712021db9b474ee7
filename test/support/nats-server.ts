import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * nats-server's default max_payload is 1 MiB, less than a 1 MiB znode plus its envelope;
 * the limit can only be raised in a config file.
 */
export const NATS_MAX_PAYLOAD_BYTES = 8 * 2 ** 20;

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export interface NatsServerHandle {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a real nats-server on a free loopback port (one per test suite) and waits until
 * it accepts connections. stop() kills it by pid and waits for its exit.
 */
export async function startNatsServer(timeout_ms = 10_000): Promise<NatsServerHandle> {
  const port = await freePort();
  const configDir = mkdtempSync(join(tmpdir(), 'shardkv-nats-'));
  const configFile = join(configDir, 'nats.conf');
  writeFileSync(configFile, `max_payload: ${NATS_MAX_PAYLOAD_BYTES}\n`);
  const child = spawn('nats-server', ['-c', configFile, '-a', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    rmSync(configDir, { recursive: true, force: true });
    resolve();
  }));
  const deadline = Date.now() + timeout_ms;
  while (!(await portAccepts(port))) {
    if (child.exitCode !== null) throw new Error(`nats-server exited: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not listen on ${port} within ${timeout_ms} ms: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
