import { createLogger } from '../logging/logger.js';
import { MetaReplica } from '../meta/meta-replica.js';
import { connectNats } from '../net/nats.js';
import { NATS_FLAG, PREFIX_FLAG } from './cluster-flags.js';
import type { Command } from './command.js';
import { UsageError } from './flags.js';
import { untilSignal } from './signals.js';

/** `shardkv meta`: runs one replica of the meta ensemble until SIGINT/SIGTERM. */
export const metaCommand: Command = {
  name: 'meta',
  summary: 'run one replica of the meta ensemble',
  usage: 'shardkv meta --id m1 --peers m1,m2,m3 --nats nats://127.0.0.1:4222 --data DIR',
  flags: [
    { name: 'id', kind: 'string', required: true, description: 'this replica\'s id, one of --peers' },
    { name: 'peers', kind: 'string', required: true, description: 'every replica id of the ensemble, comma-separated (1, 3 or 5)' },
    NATS_FLAG,
    PREFIX_FLAG,
    { name: 'data', kind: 'string', required: true, description: 'data directory (log, snapshots, epochs)' },
    { name: 'tick-ms', kind: 'number', default: 50, description: 'engine tick' },
    { name: 'election-ticks', kind: 'number', default: 16, description: 'election timeout in ticks' },
    { name: 'snapshot-every', kind: 'number', default: 10_000, description: 'take a snapshot after this many transactions' },
    { name: 'snapshot-retain', kind: 'number', default: 3, description: 'snapshots kept (older ones and their log segments are purged)' },
    { name: 'log-window', kind: 'number', default: 1000, description: 'recent transactions kept in memory for DIFF syncs; a follower further behind gets a SNAP' },
    { name: 'check-config', kind: 'boolean', default: false, description: 'validate the flags and exit' },
  ],
  async run(flags) {
    const id = String(flags.id);
    const peers = String(flags.peers).split(',').map((peer) => peer.trim()).filter((peer) => peer.length > 0);
    if (!peers.includes(id)) throw new UsageError(`--id ${id} is not among --peers ${peers.join(',')}`);
    for (const name of ['tick-ms', 'election-ticks', 'snapshot-every', 'snapshot-retain', 'log-window']) {
      const value = flags[name] as number;
      if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);
    }
    if (flags['check-config'] === true) return 0;
    const logger = createLogger({ role: 'meta', node: id, group: 'meta' });
    const transport = await connectNats({ servers: String(flags.nats).split(','), logger, name: `meta-${id}` });
    const replica = await MetaReplica.start({
      nodeId: id,
      peers,
      transport,
      prefix: String(flags.prefix),
      dataDir: String(flags.data),
      logger,
      timing: {
        tick_ms: flags['tick-ms'] as number,
        electionTimeoutTicks: flags['election-ticks'] as number,
        logWindowRecords: flags['log-window'] as number,
      },
      snapshotEveryTxns: flags['snapshot-every'] as number,
      snapshotRetain: flags['snapshot-retain'] as number,
      onFatal: () => process.exit(1),
    });
    const signal = await untilSignal();
    logger.info({ signal }, 'stopping');
    await replica.stop();
    await transport.close();
    return 0;
  },
};
