/**
 * Rebalancing while a foreground load runs (in one process over the in-process bus, real
 * replicas with their logs on disk): a cluster of g1 and g2 holding --keys keys of
 * --value-bytes each gets g3 added, once per copy throttle in --rates (MiB/s per transfer,
 * 0 = unthrottled), each on a fresh cluster. Reports keys/s and MB/s moved, the foreground
 * write latency before and during the move, and the unavailability window of each transfer
 * (its fence to the ring commit). Everything shares one event loop here, so the copy's CPU
 * shows directly in the foreground latency: the sweep shows what the throttle buys.
 *   npm run bench -- --only rebalance [--keys 6000] [--value-bytes 1024] [--rates 0.5,2,8,0]
 */
import { placementKey } from '../ring/path.js';
import type { ShardWriteReply } from '../protocol/shard.js';
import { RebalanceCoordinator } from '../router/rebalance/coordinator.js';
import { RebalanceAdmin } from '../router/rebalance/rebalance-admin.js';
import { InProcessCluster } from '../test/rebalance/in-process-cluster.js';
import { WriteLoad } from '../test/rebalance/write-load.js';
import { waitFor } from '../test/support/wait.js';
import { markdownTable, type BenchSection } from './results.js';
import type { BenchOptions } from './run.js';

function rates(args: string[]): number[] {
  const at = args.indexOf('--rates');
  const values = (at >= 0 ? args[at + 1] ?? '' : '0.5,2,8,0').split(',').map(Number);
  if (values.some((value) => !Number.isFinite(value) || value < 0)) throw new Error('--rates must be MiB/s values >= 0, comma-separated');
  return values;
}

function flag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number`);
  return value;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface MoveMeasure {
  rateMbps: number;
  moved: number;
  bytes: number;
  copy_s: number;
  total_s: number;
  windows_ms: number[];
  before_ms: number[];
  during_ms: number[];
  /** Foreground writes per second before and during the move. */
  beforeRate: number;
  duringRate: number;
  failed: number;
}

/** A fresh g1+g2 cluster with `keys` keys, a foreground load, then g3 added at `rateMbps`. */
async function measureMove(keys: number, valueBytes: number, rateMbps: number): Promise<MoveMeasure> {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1', 'g2'], spareGroups: ['g3'] });
  try {
    const kit = await cluster.router();
    const value = new Uint8Array(valueBytes).fill(120);
    for (let at = 0; at < keys; at += 64) {
      await Promise.all(Array.from({ length: Math.min(64, keys - at) }, (_, i) => {
        const path = `/bench/d${(at + i) % 97}/k${at + i}`;
        return kit.forwarder.send<ShardWriteReply>(placementKey(path), { op: 'create', path, data: value, mode: 'persistent', sessionId: 0 }, false);
      }));
    }
    const load = new WriteLoad(kit.forwarder, { workers: 4, keysPerWorker: 50, maxOps: 1_000_000 });
    await load.seed();
    const loadStarted_ms = performance.now();
    load.start();
    await waitFor('2000 foreground writes before the move', () => load.latencies_ms.length >= 2000 || undefined, 60_000, 20);
    const before_ms = load.latencies_ms.slice();
    const beforeRate = before_ms.length / ((performance.now() - loadStarted_ms) / 1000);
    const coordinator = new RebalanceCoordinator({
      routerId: 'bench', meta: kit.meta, leaders: kit.leaders, ringAdmin: kit.ringAdmin, hasher: kit.hasher, logger: cluster.logger,
      rate_bytes_per_s: Math.round(rateMbps * 1024 * 1024), poll_ms: 50,
    });
    coordinator.start();
    const admin = new RebalanceAdmin(kit.meta, kit.ringAdmin);
    const started = await admin.addGroup('g3');
    const movingFrom = load.latencies_ms.length;
    const moveStarted_ms = performance.now();
    const status = await waitFor('the rebalance to finish', async () => {
      const current = await admin.status();
      if (current.plan?.state === 'failed') throw new Error(`rebalance failed: ${current.plan.error}`);
      return current.plan?.id === started.plan!.id && current.plan.state === 'done' ? current : undefined;
    }, 600_000, 50);
    const during_ms = load.latencies_ms.slice(movingFrom);
    const duringRate = during_ms.length / ((performance.now() - moveStarted_ms) / 1000);
    await load.stop();
    await coordinator.stop();
    const plan = status.plan!;
    return {
      rateMbps,
      moved: plan.transfers.reduce((sum, tr) => sum + tr.keysCopied + tr.tailKeys, 0),
      bytes: plan.transfers.reduce((sum, tr) => sum + tr.bytesCopied, 0),
      copy_s: (Math.max(...plan.transfers.map((tr) => tr.fencedAt_ms ?? 0)) - plan.createdAt_ms) / 1000,
      total_s: ((plan.finishedAt_ms ?? Date.now()) - plan.createdAt_ms) / 1000,
      windows_ms: plan.transfers.map((tr) => (tr.committedAt_ms ?? 0) - (tr.fencedAt_ms ?? 0)),
      before_ms,
      during_ms,
      beforeRate,
      duringRate,
      failed: load.errors.length,
    };
  } finally {
    await cluster.stop();
  }
}

export default async function rebalanceBench(options: BenchOptions): Promise<BenchSection[]> {
  const keys = flag(options.args, 'keys', 6000);
  const valueBytes = flag(options.args, 'value-bytes', 1024);
  const measures: MoveMeasure[] = [];
  for (const rateMbps of rates(options.args)) measures.push(await measureMove(keys, valueBytes, rateMbps));
  const rows = measures.map((m) => [
    m.rateMbps === 0 ? 'unthrottled' : `${m.rateMbps} MiB/s`,
    String(m.moved),
    `${(m.bytes / 1024 / 1024).toFixed(2)} MiB`,
    `${m.copy_s.toFixed(2)} s`,
    (m.moved / m.copy_s).toFixed(0),
    (m.bytes / 1024 / 1024 / m.copy_s).toFixed(2),
    m.windows_ms.map((ms) => `${ms}`).join(', '),
    `${m.beforeRate.toFixed(0)} / ${m.duringRate.toFixed(0)}`,
    `${percentile(m.before_ms, 50)} / ${percentile(m.before_ms, 99)}`,
    `${percentile(m.during_ms, 50)} / ${percentile(m.during_ms, 99)} (${m.during_ms.length} ops)`,
    `${(percentile(m.during_ms, 99) / percentile(m.before_ms, 99)).toFixed(2)}x`,
    String(m.failed),
  ]);
  const markdown = [
    `Cluster g1, g2 (3 replicas each, meta x3), all in one process over the in-process bus; ${keys} keys of ${valueBytes} bytes `
      + '(plus the load\'s keys), then g3 is added, once per copy throttle (a fresh cluster each). The foreground load: 4 workers '
      + 'setting their own keys and appending sequential nodes, one request at a time each; "before" is its first 2000 writes. '
      + 'Copy = from the plan to the last fence (copy + tails + fence); the unavailability window of a transfer is its fence to the '
      + 'ring commit (writes to its ranges wait in that window, and their latency counts in "during").',
    '',
    markdownTable(['throttle', 'keys moved', 'data', 'copy', 'keys/s', 'MB/s', 'fence -> commit ms per transfer',
      'writes/s before / during', 'before p50 / p99 ms', 'during p50 / p99 ms', 'p99 during / before', 'failed writes'], rows),
  ].join('\n');
  return [{ id: 'rebalance', title: 'Rebalancing under load (add a group)', markdown }];
}
