/**
 * Meta ensemble benchmark: 3 meta replica processes over a real nats-server (started here,
 * stopped after; every write is fsync'd by a quorum before it is acknowledged). Creates and
 * sets at 1 and 64 in flight with p50/p99 latency; linearizable and sequential getData at 64 in
 * flight. Each row runs until its duration or op count is reached, whichever comes first.
 * `npm run bench -- --only meta [--duration-ms 3000] [--max-ops 5000]`
 */
import type { MetaClient } from '../meta/meta-client.js';
import { MetaCluster } from '../test/support/meta-cluster.js';
import { markdownTable, type BenchSection } from './results.js';
import type { BenchOptions } from './run.js';

interface Row {
  op: string;
  in_flight: number;
  ops: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

const VALUE = new Uint8Array(64).fill(7);

function numberFlag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
  return value;
}

function percentile(sorted: Float64Array, fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

/** Runs `op(i)` from `in_flight` lanes until duration_ms passed or max_ops were started. */
async function measure(name: string, in_flight: number, duration_ms: number, max_ops: number, op: (i: number) => Promise<unknown>): Promise<Row> {
  const latencies_ms: number[] = [];
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + duration_ms;
  const lane = async () => {
    while (started < max_ops && performance.now() < deadline) {
      const i = started++;
      const begin = performance.now();
      await op(i);
      latencies_ms.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: in_flight }, lane));
  const elapsed_s = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(latencies_ms).sort();
  return {
    op: name,
    in_flight,
    ops: latencies_ms.length,
    ops_per_s: latencies_ms.length / elapsed_s,
    p50_ms: percentile(sorted, 0.5),
    p99_ms: percentile(sorted, 0.99),
  };
}

async function runRows(client: MetaClient, duration_ms: number, max_ops: number): Promise<Row[]> {
  await client.create('/bench', VALUE);
  await client.create('/bench/warm', VALUE);
  // Warm-up: JIT, connections, the leader's first fsyncs.
  await measure('warm-up', 16, 500, 1_000, (i) => client.setData('/bench/warm', VALUE).then(() => i));
  const rows: Row[] = [];
  let run = 0;
  for (const in_flight of [1, 64]) {
    const dir = `/bench/c${run++}`;
    await client.create(dir, VALUE);
    rows.push(await measure('create', in_flight, duration_ms, max_ops, (i) => client.create(`${dir}/n${i}`, VALUE)));
  }
  const keys = Array.from({ length: 64 }, (_, i) => `/bench/k${i}`);
  for (const key of keys) await client.create(key, VALUE);
  for (const in_flight of [1, 64]) {
    rows.push(await measure('setData', in_flight, duration_ms, max_ops, (i) => client.setData(keys[i % keys.length] as string, VALUE)));
  }
  rows.push(await measure('getData linearizable', 64, duration_ms, max_ops, (i) => client.getData(keys[i % keys.length] as string)));
  rows.push(await measure('getData sequential', 64, duration_ms, max_ops, (i) => client.getData(keys[i % keys.length] as string, { consistency: 'sequential' })));
  return rows;
}

export default async function metaBench(options: BenchOptions): Promise<BenchSection[]> {
  const duration_ms = numberFlag(options.args, '--duration-ms', 3_000);
  const max_ops = numberFlag(options.args, '--max-ops', 5_000);
  const cluster = await MetaCluster.start({ replicaLogLevel: 'warn' });
  let rows: Row[];
  try {
    const client = await cluster.client({ timeout_ms: 30_000, attemptTimeout_ms: 10_000 });
    rows = await runRows(client, duration_ms, max_ops);
  } finally {
    await cluster.stopAll();
  }
  const fmt = (value: number, digits: number) => value.toFixed(digits);
  const table = markdownTable(
    ['op', 'in flight', 'ops', 'ops/s', 'p50 ms', 'p99 ms'],
    rows.map((row) => [row.op, row.in_flight, row.ops, fmt(row.ops_per_s, 0), fmt(row.p50_ms, 2), fmt(row.p99_ms, 2)]),
  );
  const ratio = (op: string) => {
    const one = rows.find((row) => row.op === op && row.in_flight === 1);
    const many = rows.find((row) => row.op === op && row.in_flight === 64);
    return one !== undefined && many !== undefined && one.ops_per_s > 0 ? (many.ops_per_s / one.ops_per_s).toFixed(1) : 'n/a';
  };
  const notes = [
    '',
    `3 meta replica processes (\`shardkv meta\`), one nats-server, one client process, all on this machine; fsync on;`,
    `64-byte values; each row runs ${duration_ms} ms or ${max_ops} ops, whichever comes first.`,
    `64 in flight vs 1: create x${ratio('create')}, setData x${ratio('setData')} (group commit and pipelining).`,
  ].join('\n');
  return [{ id: 'meta', title: 'Meta ensemble: writes and reads over real NATS (3 processes)', markdown: table + '\n' + notes }];
}
