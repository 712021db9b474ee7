import type { ZabTiming } from '../zab/driver/zab-replica.js';
import { UsageError, type FlagSpec, type FlagValues } from './flags.js';

/** Flags of every replica process (meta and shard): identity, storage and the engine's timing. */
export const REPLICA_FLAGS: FlagSpec[] = [
  { name: 'id', kind: 'string', required: true, description: 'this replica\'s id, one of --peers' },
  { name: 'peers', kind: 'string', required: true, description: 'every replica id of the ensemble, comma-separated (1, 3 or 5)' },
  { name: 'data', kind: 'string', required: true, description: 'data directory (log, snapshots, epochs)' },
  { name: 'tick-ms', kind: 'number', default: 50, description: 'engine tick' },
  { name: 'election-ticks', kind: 'number', default: 16, description: 'election timeout in ticks' },
  { name: 'snapshot-every', kind: 'number', default: 10_000, description: 'take a snapshot after this many transactions' },
  { name: 'snapshot-retain', kind: 'number', default: 3, description: 'snapshots kept (older ones and their log segments are purged)' },
  { name: 'log-window', kind: 'number', default: 1000, description: 'recent transactions kept in memory for DIFF syncs; a follower further behind gets a SNAP' },
  { name: 'check-config', kind: 'boolean', default: false, description: 'validate the flags and exit' },
];

export interface ReplicaSettings {
  id: string;
  peers: string[];
  dataDir: string;
  timing: ZabTiming;
  snapshotEveryTxns: number;
  snapshotRetain: number;
}

export function replicaSettings(flags: FlagValues): ReplicaSettings {
  const id = String(flags.id);
  const peers = String(flags.peers).split(',').map((peer) => peer.trim()).filter((peer) => peer.length > 0);
  if (!peers.includes(id)) throw new UsageError(`--id ${id} is not among --peers ${peers.join(',')}`);
  if (![1, 3, 5].includes(peers.length) || new Set(peers).size !== peers.length) {
    throw new UsageError(`--peers must list 1, 3 or 5 distinct ids, got ${peers.join(',')}`);
  }
  for (const name of ['tick-ms', 'election-ticks', 'snapshot-every', 'snapshot-retain', 'log-window']) {
    const value = flags[name] as number;
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);
  }
  return {
    id,
    peers,
    dataDir: String(flags.data),
    timing: {
      tick_ms: flags['tick-ms'] as number,
      electionTimeoutTicks: flags['election-ticks'] as number,
      logWindowRecords: flags['log-window'] as number,
    },
    snapshotEveryTxns: flags['snapshot-every'] as number,
    snapshotRetain: flags['snapshot-retain'] as number,
  };
}
