/**
 * `shardkv dev`: the whole cluster in ONE process over the in-process bus: a meta ensemble of 3,
 * --groups shard groups of 3 replicas each, and a router on 127.0.0.1:7070. Data lives under
 * ./.shardkv-dev (or --data), so a restart picks up where the last run stopped.
 */
import { join, resolve } from 'node:path';
import { createLogger } from '../logging/logger.js';
import { InProcessBus } from '../net/in-process.js';
import type { Command } from './command.js';
import { REBALANCE_RATE_FLAG, rebalanceRateBytesPerSecond } from './cluster-flags.js';
import { UsageError } from './flags.js';
import { startMetaRole, startRouterRole, startShardRole, type Stoppable } from './roles.js';
import { untilSignal } from './signals.js';

const PREFIX = 'shardkv';
const REPLICAS = ['r1', 'r2', 'r3'];
const META_PEERS = ['m1', 'm2', 'm3'];

export const devCommand: Command = {
  name: 'dev',
  summary: 'run a whole cluster in this process (meta x3, shard groups x3 replicas, a router)',
  usage: 'shardkv dev [--data DIR] [--port 7070] [--groups 2] [--spare-groups 0]',
  flags: [
    { name: 'data', kind: 'string', default: '.shardkv-dev', description: 'data directory of every replica' },
    { name: 'host', kind: 'string', default: '127.0.0.1', description: 'router listen address' },
    { name: 'port', kind: 'number', default: 7070, description: 'router HTTP port' },
    { name: 'groups', kind: 'number', default: 2, description: 'shard groups' },
    { name: 'spare-groups', kind: 'number', default: 0, description: 'extra shard groups started outside the ring (add them with shardkv group add)' },
    REBALANCE_RATE_FLAG,
  ],
  async run(flags) {
    const groups = flags.groups as number;
    const port = flags.port as number;
    const spare = flags['spare-groups'] as number;
    if (!Number.isInteger(groups) || groups < 1 || !Number.isInteger(spare) || spare < 0 || groups + spare > 16) {
      throw new UsageError('--groups (>= 1) and --spare-groups (>= 0) must be integers, 16 groups at most');
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a TCP port');
    const rebalanceRate_bytes_per_s = rebalanceRateBytesPerSecond(flags['rebalance-rate-mbps'] as number);
    const dataDir = resolve(String(flags.data));
    process.env.LOG_LEVEL ??= 'warn';
    const bus = new InProcessBus();
    const started: Stoppable[] = [];
    const logOf = (role: 'meta' | 'shard' | 'router', node?: string, group?: string) =>
      createLogger({ role, ...(node === undefined ? {} : { node }), ...(group === undefined ? {} : { group }) });
    const onFatal = (err: unknown): void => {
      process.stderr.write(`shardkv dev: a replica failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    };
    for (const id of META_PEERS) {
      const logger = logOf('meta', id, 'meta');
      started.push(await startMetaRole({ transport: bus.connect({ logger }), prefix: PREFIX, nodeId: id, peers: META_PEERS, dataDir: join(dataDir, 'meta', id), logger, onFatal }));
    }
    const groupIds = Array.from({ length: groups }, (_, i) => `g${i + 1}`);
    const spareIds = Array.from({ length: spare }, (_, i) => `g${groups + i + 1}`);
    await Promise.all([...groupIds, ...spareIds].flatMap((group) => REPLICAS.map(async (id) => {
      const logger = logOf('shard', id, group);
      started.push(await startShardRole({ transport: bus.connect({ logger }), prefix: PREFIX, group, nodeId: id, peers: REPLICAS, dataDir: join(dataDir, group, id), logger, onFatal }));
    })));
    const routerLogger = logOf('router', 'router1');
    const router = await startRouterRole({
      transport: bus.connect({ logger: routerLogger }), prefix: PREFIX, logger: routerLogger,
      host: String(flags.host), port, initialGroups: groupIds, routerId: 'router1', rebalanceRate_bytes_per_s,
    });
    started.push(router);
    process.stdout.write([
      `shardkv dev cluster is up: meta ensemble of 3, ${groups} shard groups x 3 replicas, router at ${router.url}`,
      `data: ${dataDir} (delete it to start afresh)`,
      '',
      'try:',
      `  curl -X POST '${router.url}/v1/nodes/app/config?mode=persistent' --data 'hello'`,
      `  curl ${router.url}/v1/nodes/app/config`,
      `  curl ${router.url}/v1/children/app`,
      `  curl ${router.url}/v1/ring`,
      `  npx shardkv ls /app --router ${router.url}`,
      ...(spareIds.length === 0 ? [] : [
        `  npx shardkv group add ${spareIds[0]} --router ${router.url}     # spare groups (not on the ring): ${spareIds.join(', ')}`,
        `  npx shardkv rebalance status --follow --router ${router.url}`,
      ]),
      '',
      'Ctrl-C stops the cluster.',
      '',
    ].join('\n'));
    const signal = await untilSignal();
    process.stdout.write(`\n${signal}: stopping\n`);
    for (const role of started.reverse()) await role.stop();
    return 0;
  },
};
