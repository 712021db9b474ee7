/**
 * The role commands: `shardkv meta`, `shardkv shard` and `shardkv router`, each one process of
 * the topology over a real NATS server, running until SIGINT or SIGTERM.
 */
import { createLogger, type LogContext } from '../logging/logger.js';
import { connectNats } from '../net/nats.js';
import { validateGroupId } from '../ring/group.js';
import { NATS_FLAG, PREFIX_FLAG, REBALANCE_RATE_FLAG, rebalanceRateBytesPerSecond } from './cluster-flags.js';
import type { Command } from './command.js';
import { UsageError, type FlagValues } from './flags.js';
import { REPLICA_FLAGS, replicaSettings } from './replica-flags.js';
import { startMetaRole, startRouterRole, startShardRole, type Stoppable } from './roles.js';
import { untilSignal } from './signals.js';

async function runUntilSignal(context: LogContext, flags: FlagValues, start: (args: {
  transport: Awaited<ReturnType<typeof connectNats>>;
  logger: ReturnType<typeof createLogger>;
}) => Promise<Stoppable>): Promise<number> {
  const logger = createLogger(context);
  const transport = await connectNats({ servers: String(flags.nats).split(','), logger, name: `${context.role}-${context.node ?? ''}` });
  const role = await start({ transport, logger });
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping');
  await role.stop();
  await transport.close();
  return 0;
}

const onFatal = (): never => process.exit(1);

export const metaCommand: Command = {
  name: 'meta',
  summary: 'run one replica of the meta ensemble',
  usage: 'shardkv meta --id m1 --peers m1,m2,m3 --nats nats://127.0.0.1:4222 --data DIR',
  flags: [...REPLICA_FLAGS, NATS_FLAG, PREFIX_FLAG],
  async run(flags) {
    const settings = replicaSettings(flags);
    if (flags['check-config'] === true) return 0;
    return runUntilSignal({ role: 'meta', node: settings.id, group: 'meta' }, flags, ({ transport, logger }) =>
      startMetaRole({ ...settings, nodeId: settings.id, transport, prefix: String(flags.prefix), logger, onFatal }));
  },
};

export const shardCommand: Command = {
  name: 'shard',
  summary: 'run one replica of a shard group',
  usage: 'shardkv shard --group g1 --id r1 --peers r1,r2,r3 --nats nats://127.0.0.1:4222 --data DIR',
  flags: [{ name: 'group', kind: 'string', required: true, description: 'the shard group this replica belongs to' }, ...REPLICA_FLAGS, NATS_FLAG, PREFIX_FLAG],
  async run(flags) {
    const settings = replicaSettings(flags);
    const group = String(flags.group);
    validateGroupId(group);
    if (flags['check-config'] === true) return 0;
    return runUntilSignal({ role: 'shard', node: settings.id, group }, flags, ({ transport, logger }) =>
      startShardRole({ ...settings, nodeId: settings.id, group, transport, prefix: String(flags.prefix), logger, onFatal }));
  },
};

export const routerCommand: Command = {
  name: 'router',
  summary: 'run a stateless router (HTTP API) in front of the cluster',
  usage: 'shardkv router --nats nats://127.0.0.1:4222 [--port 7070] [--initial-groups g1,g2]',
  flags: [
    { name: 'id', kind: 'string', default: 'router', description: 'this router\'s name in logs' },
    { name: 'host', kind: 'string', default: '127.0.0.1', description: 'listen address' },
    { name: 'port', kind: 'number', default: 7070, description: 'HTTP port' },
    { name: 'initial-groups', kind: 'string', default: '', description: 'groups to put on the ring of a fresh cluster (ignored once the ring has groups)' },
    REBALANCE_RATE_FLAG,
    NATS_FLAG,
    PREFIX_FLAG,
    { name: 'check-config', kind: 'boolean', default: false, description: 'validate the flags and exit' },
  ],
  async run(flags) {
    const port = flags.port as number;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a TCP port');
    const initialGroups = String(flags['initial-groups']).split(',').map((id) => id.trim()).filter((id) => id.length > 0);
    for (const group of initialGroups) validateGroupId(group);
    const rebalanceRate_bytes_per_s = rebalanceRateBytesPerSecond(flags['rebalance-rate-mbps'] as number);
    if (flags['check-config'] === true) return 0;
    const id = String(flags.id);
    return runUntilSignal({ role: 'router', node: id }, flags, async ({ transport, logger }) => {
      const router = await startRouterRole({ transport, prefix: String(flags.prefix), logger, host: String(flags.host), port, initialGroups, rebalanceRate_bytes_per_s });
      logger.info({ url: router.url }, 'router listening');
      return router;
    });
  },
};
