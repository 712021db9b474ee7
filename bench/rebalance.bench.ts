/**
 * Rebalancing while a foreground load runs (in one process over the in-process bus, real
 * replicas with their logs on disk): a cluster of g1 and g2 holding --keys keys of
 * --value-bytes each gets g3 added. Reports keys/s and MB/s moved, the foreground write
 * latency before and during the move, and the unavailability window of each transfer (its
 * fence to the ring commit).
 *   npm run bench -- --only rebalance [--keys 3000] [--value-bytes 1024] [--rate-mbps 16]
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

export default async function rebalanceBench(options: BenchOptions): Promise<BenchSection[]> {
  const keys = flag(options.args, 'keys', 3000);
  const valueBytes = flag(options.args, 'value-bytes', 1024);
  const rateMbps = flag(options.args, 'rate-mbps', 16);
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
    load.start();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = load.latencies_ms.slice();
    const coordinator = new RebalanceCoordinator({
      routerId: 'bench', meta: kit.meta, leaders: kit.leaders, ringAdmin: kit.ringAdmin, hasher: kit.hasher, logger: cluster.logger,
      rate_bytes_per_s: Math.round(rateMbps * 1024 * 1024), poll_ms: 50,
    });
    coordinator.start();
    const admin = new RebalanceAdmin(kit.meta, kit.ringAdmin);
    const started = await admin.addGroup('g3');
    const movingFrom = load.latencies_ms.length;
    const status = await waitFor('the rebalance to finish', async () => {
      const current = await admin.status();
      if (current.plan?.state === 'failed') throw new Error(`rebalance failed: ${current.plan.error}`);
      return current.plan?.id === started.plan!.id && current.plan.state === 'done' ? current : undefined;
    }, 600_000, 50);
    const during = load.latencies_ms.slice(movingFrom);
    await load.stop();
    await coordinator.stop();
    const plan = status.plan!;
    const moved = plan.transfers.reduce((sum, tr) => sum + tr.keysCopied + tr.tailKeys, 0);
    const bytes = plan.transfers.reduce((sum, tr) => sum + tr.bytesCopied, 0);
    const copy_s = (Math.max(...plan.transfers.map((tr) => tr.fencedAt_ms ?? 0)) - plan.createdAt_ms) / 1000;
    const total_s = ((plan.finishedAt_ms ?? Date.now()) - plan.createdAt_ms) / 1000;
    const windows = plan.transfers.map((tr) => (tr.committedAt_ms ?? 0) - (tr.fencedAt_ms ?? 0));
    const rows = [
      ['keys moved (copy + tail)', String(moved)],
      ['data moved', `${(bytes / 1024 / 1024).toFixed(2)} MiB`],
      ['copy + tail + fence', `${copy_s.toFixed(2)} s`],
      ['whole rebalance (to drop)', `${total_s.toFixed(2)} s`],
      ['keys/s moved', (moved / copy_s).toFixed(0)],
      ['MB/s moved', (bytes / 1024 / 1024 / copy_s).toFixed(2)],
      ['unavailability window (fence -> ring commit), per transfer', windows.map((ms) => `${ms} ms`).join(', ')],
    ];
    const latency = [
      ['before the move', String(before.length), String(percentile(before, 50)), String(percentile(before, 99))],
      ['during the move', String(during.length), String(percentile(during, 50)), String(percentile(during, 99))],
    ];
    const markdown = [
      `Cluster g1, g2 (3 replicas each, meta x3), all in one process over the in-process bus; ${keys} keys of ${valueBytes} bytes `
        + `(plus the load's keys), then g3 is added with a copy throttle of ${rateMbps} MiB/s per transfer. `
        + 'The foreground load: 4 workers setting their own keys and appending sequential nodes, one request at a time each.',
      '',
      markdownTable(['measure', 'value'], rows),
      '',
      markdownTable(['foreground writes', 'ops', 'p50 ms', 'p99 ms'], latency),
      '',
      `p99 during / before: ${(percentile(during, 99) / percentile(before, 99)).toFixed(2)}x. Failed foreground writes: ${load.errors.length}.`,
    ].join('\n');
    return [{ id: 'rebalance', title: 'Rebalancing under load (add a group)', markdown }];
  } finally {
    await cluster.stop();
  }
}
