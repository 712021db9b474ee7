/**
 * A whole shardkv cluster inside the test process over the in-process bus, started with the same
 * role functions as `shardkv dev` (cli/dev-command.ts): a meta ensemble m1..m3, shard groups
 * g1 and g2 of r1..r3, and a router on 127.0.0.1 (a free port) that puts both groups on the ring.
 * Data lives in a temp dir. stop() stops every role, closes the bus connections and removes the
 * dir; startEmbeddedCluster(t) registers it in t.teardown, so it runs also when a test fails.
 * It resolves once the cluster takes writes.
 */
import { join } from 'node:path';
import type { Test } from 'tap';
import { startMetaRole, startRouterRole, startShardRole, type Stoppable } from '../../cli/roles.js';
import { createLogger } from '../../logging/logger.js';
import { InProcessBus } from '../../net/in-process.js';
import type { Transport } from '../../net/transport.js';
import type { ZabTiming } from '../../zab/driver/zab-replica.js';
import { ShardkvClient } from '../../client/index.js';
import { makeTempDir } from './tmpdir.js';
import { waitFor } from './wait.js';

const PREFIX = 'shardkv';
const META_PEERS = ['m1', 'm2', 'm3'];
const REPLICAS = ['r1', 'r2', 'r3'];
const GROUPS = ['g1', 'g2'];
/** Short engine timings: elections in a few hundred ms, so the tests do not wait on defaults. */
const TEST_TIMING: ZabTiming = { tick_ms: 20, heartbeatTicks: 2, electionTimeoutTicks: 10 };

export interface EmbeddedCluster {
  /** The router, e.g. http://127.0.0.1:41234. */
  routerUrl: string;
  groups: readonly string[];
  /** Stops one shard replica (e.g. a group's leader, named by GET /v1/groups); the rest go on. */
  stopShardReplica(group: string, nodeId: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startEmbeddedCluster(t: Test, options: { timing?: ZabTiming } = {}): Promise<EmbeddedCluster> {
  const timing = options.timing ?? TEST_TIMING;
  const temp = makeTempDir('embedded');
  const logger = createLogger({ role: 'test' }, { level: process.env.LOG_LEVEL ?? 'silent' });
  const bus = new InProcessBus();
  // Stopped in reverse start order: router first, then the shard replicas, then meta.
  const started: Stoppable[] = [];
  const shardRoles = new Map<string, Stoppable>();
  const transports: Transport[] = [];
  const connect = (): Transport => {
    const transport = bus.connect({ logger });
    transports.push(transport);
    return transport;
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const role of started.splice(0).reverse()) await role.stop().catch(() => undefined);
    for (const transport of transports.splice(0)) await transport.close().catch(() => undefined);
    temp.cleanup();
  };
  t.teardown(stop);
  const onFatal = (err: unknown): void => {
    t.fail(`a replica of the embedded cluster failed: ${err instanceof Error ? err.message : String(err)}`);
  };
  for (const nodeId of META_PEERS) {
    started.push(await startMetaRole({ transport: connect(), prefix: PREFIX, nodeId, peers: META_PEERS, dataDir: join(temp.dir, 'meta', nodeId), logger, timing, onFatal }));
  }
  await Promise.all(GROUPS.flatMap((group) => REPLICAS.map(async (nodeId) => {
    const role = await startShardRole({ transport: connect(), prefix: PREFIX, group, nodeId, peers: REPLICAS, dataDir: join(temp.dir, group, nodeId), logger, timing, onFatal });
    started.push(role);
    shardRoles.set(`${group}/${nodeId}`, role);
  })));
  const router = await startRouterRole({ transport: connect(), prefix: PREFIX, logger, host: '127.0.0.1', port: 0, initialGroups: GROUPS });
  started.push(router);
  // Ready once writes succeed in 8 directories (both groups, unless the hash is very unlucky).
  const client = new ShardkvClient({ url: router.url, timeout_ms: 5_000 });
  for (let i = 0; i < 8; i++) {
    await waitFor(`the cluster to take a write in /ready/${i}`, async () => (await client.create(`/ready/${i}/probe-`, '', { mode: 'sequential' })).path, 30_000, 100);
  }
  const stopShardReplica = async (group: string, nodeId: string): Promise<void> => {
    const role = shardRoles.get(`${group}/${nodeId}`);
    if (role === undefined) throw new Error(`no running replica ${nodeId} in ${group}`);
    shardRoles.delete(`${group}/${nodeId}`);
    started.splice(started.indexOf(role), 1);
    await role.stop();
  };
  return { routerUrl: router.url, groups: GROUPS, stopShardReplica, stop };
}
