/**
 * shardkv as the side-by-side bench runs it: a real nats-server and the topology of
 * cli/topology.ts (describeTopology + serviceArgs, as `shardkv up` starts it) as separate
 * processes, each with its data dir in a temp dir. Driven through the router's HTTP API over
 * keep-alive connections (node:http, one socket per request in flight).
 */
import { Agent, request as httpRequest } from 'node:http';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeTopology, serviceArgs, type ServiceSpec } from '../../cli/topology.js';
import { freePort, startNatsServer, type NatsServerHandle } from '../../test/support/nats-server.js';
import { waitFor } from '../../test/support/wait.js';
import { KEY_COUNT, valueFor, type KvTarget, type ReadConsistency } from './load.js';
import { ProcessGroup } from './process-group.js';

/** This file compiles to <outDir>/bench/vs/shardkv.js; the CLI to <outDir>/cli/main.js. */
const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');

export interface ShardkvOptions {
  groups: string[];
  /** Write a V8 CPU profile of the services `profiled` picks into this dir (on their clean exit). */
  cpuProfileDir?: string;
  profiled?: (service: ServiceSpec) => boolean;
  start_timeout_ms?: number;
}

export interface ShardkvSystem {
  routerUrl: string;
  processes: ProcessGroup;
  services: ServiceSpec[];
  target(): Promise<KvTarget>;
  stop(): Promise<void>;
}

export async function startShardkv(dir: string, options: ShardkvOptions): Promise<ShardkvSystem> {
  const nats: NatsServerHandle = await startNatsServer();
  const processes = new ProcessGroup(join(dir, 'logs'));
  let services: ServiceSpec[] = [];
  // Routers and replicas first, while the meta ensemble still answers them (stopped together they
  // wait on meta for many seconds); a profiled process gets time to write its profile.
  const stop = async (): Promise<void> => {
    const grace_ms = options.cpuProfileDir === undefined ? 5_000 : 30_000;
    await processes.stop(services.filter((service) => service.role !== 'meta').map((service) => service.name), grace_ms);
    await processes.stopAll(grace_ms);
    await nats.stop();
  };
  try {
    const routerPort = await freePort();
    services = describeTopology({ groups: options.groups, routers: 1, routerPort });
    const prefix = `bench-${process.pid}`;
    for (const service of services) {
      const extra: Record<string, string> = { nats: nats.url, prefix };
      if (service.stateful) {
        extra.data = join(dir, 'data', service.name);
        mkdirSync(extra.data, { recursive: true });
      }
      const nodeFlags = options.cpuProfileDir !== undefined && (options.profiled?.(service) ?? true)
        ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir, '--cpu-prof-name', `${service.name}.cpuprofile`]
        : [];
      processes.start(service.name, process.execPath, [...nodeFlags, CLI_MAIN, ...serviceArgs(service, extra)], {
        ...process.env, LOG_LEVEL: process.env.SHARDKV_BENCH_LOG_LEVEL ?? 'warn',
      });
    }
    const routerUrl = `http://127.0.0.1:${routerPort}`;
    const probe = shardkvTarget(routerUrl);
    probe.prepare?.(1);
    try {
      await waitFor(`the shardkv router with ${options.groups.join(',')} on its ring to accept a create`, async () => {
        processes.assertAlive();
        try {
          const ring = await getJson(`${routerUrl}/v1/ring`) as { groups: Array<{ id: string }> };
          if (!options.groups.every((group) => ring.groups.some((g) => g.id === group))) return false;
          await probe.setup();
          return true;
        } catch {
          return false;
        }
      }, options.start_timeout_ms ?? 90_000, 500);
    } finally {
      await probe.close();
    }
    return { routerUrl, processes, services, target: async () => shardkvTarget(routerUrl), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/** One HTTP request on a keep-alive agent; resolves with the status once the body is read. */
function send(agent: Agent, url: URL, method: string, path: string, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      agent, host: url.hostname, port: url.port, method, path,
      headers: body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': body.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Each key in its own directory, so keys spread over the groups (placement is by parent path). */
const keyPath = (i: number): string => `/v1/nodes/bench/${String(i).padStart(6, '0')}/v`;

function shardkvTarget(routerUrl: string): KvTarget {
  const url = new URL(routerUrl);
  let agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const expect = async (status: number[], pending: Promise<{ status: number; text: string }>): Promise<void> => {
    const reply = await pending;
    if (!status.includes(reply.status)) throw new Error(`shardkv answered ${reply.status}: ${reply.text.slice(0, 200)}`);
  };
  const read = (consistency: ReadConsistency) => (i: number): Promise<void> =>
    expect([200], send(agent, url, 'GET', `${keyPath(i)}?consistency=${consistency}`));
  return {
    name: 'shardkv',
    async setup() {
      for (let i = 0; i < KEY_COUNT; i += 64) {
        await Promise.all(Array.from({ length: Math.min(64, KEY_COUNT - i) }, (_, k) =>
          expect([201, 409], send(agent, url, 'POST', keyPath(i + k), valueFor(i + k)))));
      }
    },
    write: (i) => expect([200], send(agent, url, 'PUT', keyPath(i), valueFor(i))),
    readOp: read,
    prepare(in_flight) {
      agent.destroy();
      agent = new Agent({ keepAlive: true, maxSockets: in_flight });
    },
    async close() {
      agent.destroy();
    },
  };
}
