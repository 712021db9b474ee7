import { UsageError, type FlagSpec } from './flags.js';

/** Flags every process that joins a cluster over NATS shares (same names as the compose file's env). */
export const NATS_FLAG: FlagSpec = { name: 'nats', kind: 'string', default: 'nats://127.0.0.1:4222', description: 'NATS server URL(s), comma-separated' };
export const PREFIX_FLAG: FlagSpec = { name: 'prefix', kind: 'string', default: 'shardkv', description: 'cluster prefix of every NATS subject' };
/** The rebalance copy throttle of a router (per transfer); SHARDKV_REBALANCE_RATE_MBPS in the environment. */
export const REBALANCE_RATE_FLAG: FlagSpec = {
  name: 'rebalance-rate-mbps', kind: 'number', default: 16, description: 'rebalance copy throttle per move, MiB/s (0 = unthrottled)',
};

/** MiB/s as the flag gives it -> bytes/s; UsageError unless a finite number >= 0. */
export function rebalanceRateBytesPerSecond(mbps: number): number {
  if (!Number.isFinite(mbps) || mbps < 0) throw new UsageError('--rebalance-rate-mbps must be a number of MiB/s, 0 or more');
  return Math.round(mbps * 1024 * 1024);
}

export const TIMEOUT_FLAG: FlagSpec = { name: 'timeout-ms', kind: 'number', default: 10_000, description: 'deadline of one request, retries included' };
