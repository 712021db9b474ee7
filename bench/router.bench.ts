/**
 * Through the router, one shard group against two: the whole topology as separate processes
 * (real nats-server, 3 meta, 3 replicas per group with fsync on, one router; the harness of the
 * integration tests), create / set / get of 256-byte values over HTTP keep-alive at 1 and 64
 * requests in flight, each row bounded by time and by op count.
 *
 *   npm run bench -- --only router [--row-ms 3000] [--row-ops 5000]
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { markdownTable, type BenchSection } from './results.js';
import type { BenchOptions } from './run.js';
import { ProcessCluster } from '../test/support/process-cluster.js';

const VALUE = 'v'.repeat(256);
const DIRECTORIES = 256;
const IN_FLIGHT = [1, 64];
const OPS = ['create', 'set', 'get'] as const;
type Op = (typeof OPS)[number];

interface RowResult {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

function numberArg(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  const value = at < 0 ? Number.NaN : Number(args[at + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** One HTTP request on a keep-alive agent; resolves with the status once the body is read. */
function call(agent: Agent, base: URL, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request({
      host: base.hostname, port: base.port, method, path, agent,
      headers: body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(body) },
    }, (incoming) => {
      incoming.resume();
      incoming.on('end', () => resolve(incoming.statusCode ?? 0));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * (sorted.length - 1)))] as number;
}

class RouterLoad {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly base: URL;
  /** Nodes made by create rows, read and written by the set and get rows. */
  private readonly created: string[] = [];
  private serial = 0;

  constructor(url: string, private readonly label: string) {
    this.base = new URL(url);
  }

  private nextPath(): string {
    const n = this.serial++;
    return `/bench-${this.label}/d${n % DIRECTORIES}/n${n}`;
  }

  private async once(op: Op, i: number): Promise<boolean> {
    switch (op) {
      case 'create': {
        const path = this.nextPath();
        const ok = (await call(this.agent, this.base, 'POST', `/v1/nodes${path}`, VALUE)) === 201;
        if (ok) this.created.push(path);
        return ok;
      }
      case 'set':
        return (await call(this.agent, this.base, 'PUT', `/v1/nodes${this.created[i % this.created.length]}`, VALUE)) === 200;
      case 'get':
        return (await call(this.agent, this.base, 'GET', `/v1/nodes${this.created[i % this.created.length]}`)) === 200;
    }
  }

  /** `inFlight` loops issuing `op` until `row_ms` has passed or `row_ops` were started. */
  async row(op: Op, inFlight: number, row_ms: number, row_ops: number): Promise<RowResult> {
    const latencies: number[] = [];
    let started = 0;
    let errors = 0;
    const begin = performance.now();
    const deadline = begin + row_ms;
    const loop = async (): Promise<void> => {
      while (started < row_ops && performance.now() < deadline) {
        const i = started++;
        const t0 = performance.now();
        const ok = await this.once(op, i).catch(() => false);
        if (ok) latencies.push(performance.now() - t0);
        else errors++;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, loop));
    const elapsed_s = (performance.now() - begin) / 1000;
    latencies.sort((a, b) => a - b);
    return { ops_per_s: latencies.length / elapsed_s, p50_ms: percentile(latencies, 0.5), p99_ms: percentile(latencies, 0.99), errors };
  }

  close(): void {
    this.agent.destroy();
  }
}

async function measure(groups: string[], row_ms: number, row_ops: number): Promise<Map<string, RowResult>> {
  const cluster = await ProcessCluster.start({ groups, logLevel: 'warn' });
  const results = new Map<string, RowResult>();
  const load = new RouterLoad(cluster.routerUrl(), `${groups.length}g`);
  try {
    await load.row('create', 16, 1_000, 500); // warm-up: JIT, connections, leaders' first batches
    for (const op of OPS) {
      for (const inFlight of IN_FLIGHT) {
        const result = await load.row(op, inFlight, row_ms, row_ops);
        results.set(`${op}/${inFlight}`, result);
        process.stderr.write(`router bench ${groups.length} group(s) ${op} x${inFlight}: ${result.ops_per_s.toFixed(0)} ops/s p50 ${result.p50_ms.toFixed(2)} ms p99 ${result.p99_ms.toFixed(2)} ms errors ${result.errors}\n`);
      }
    }
  } finally {
    load.close();
    await cluster.stopAll();
  }
  return results;
}

export default async function routerBench(options: BenchOptions): Promise<BenchSection[]> {
  const row_ms = numberArg(options.args, '--row-ms', 3_000);
  const row_ops = numberArg(options.args, '--row-ops', 5_000);
  const load_before = loadavg()[0] ?? 0;
  const one = await measure(['g1'], row_ms, row_ops);
  const two = await measure(['g1', 'g2'], row_ms, row_ops);
  const rows: Array<Array<string | number>> = [];
  for (const op of OPS) {
    for (const inFlight of IN_FLIGHT) {
      const a = one.get(`${op}/${inFlight}`) as RowResult;
      const b = two.get(`${op}/${inFlight}`) as RowResult;
      rows.push([
        op, inFlight,
        a.ops_per_s.toFixed(0), a.p50_ms.toFixed(2), a.p99_ms.toFixed(2),
        b.ops_per_s.toFixed(0), b.p50_ms.toFixed(2), b.p99_ms.toFixed(2),
        `${(b.ops_per_s / a.ops_per_s).toFixed(2)}x`,
        a.errors + b.errors,
      ]);
    }
  }
  const table = markdownTable(
    ['op', 'in flight', '1 group ops/s', 'p50 ms', 'p99 ms', '2 groups ops/s', 'p50 ms', 'p99 ms', '2g / 1g', 'errors'],
    rows,
  );
  const markdown = [
    `Through one router over HTTP keep-alive (node:http Agent), 256-byte values, each row ${row_ms} ms or ${row_ops} ops;`,
    'every service a separate process over a real nats-server, 3 replicas per group, fsync on; gets are linearizable.',
    `create makes new nodes in ${DIRECTORIES} directories, set and get reuse them. Load average (1 min) ${load_before.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after.`,
    'Client, router, meta and every replica share the same cores, so a second group adds capacity only where the',
    'machine has idle CPU: on a small machine the ratio shows the cost of the extra processes, not the scale-out.',
    '',
    table,
  ].join('\n');
  return [{ id: 'router', title: 'Router: one shard group vs two (create/set/get, 1 and 64 in flight)', markdown }];
}
