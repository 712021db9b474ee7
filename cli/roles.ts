/**
 * Starting each role on a transport: used by the role commands (one role per process, over
 * NATS) and by `shardkv dev` (every role in one process, over the in-process bus), so both run
 * exactly the same code.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging/logger.js';
import { MetaClient } from '../meta/meta-client.js';
import { MetaReplica } from '../meta/meta-replica.js';
import { RingWatch } from '../meta/ring-watch.js';
import { Subjects } from '../net/subjects.js';
import type { Transport } from '../net/transport.js';
import { RingHasher } from '../ring/hasher.js';
import { ShardedClusterBackend } from '../router/cluster-backend.js';
import { createRouterMetrics } from '../router/http/metrics.js';
import { buildRouterHttp } from '../router/http/server.js';
import { RingAdmin } from '../router/ring-admin.js';
import { ShardReplica } from '../shard/shard-replica.js';
import type { ZabTiming } from '../zab/driver/zab-replica.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface ReplicaRoleOptions {
  transport: Transport;
  prefix: string;
  nodeId: string;
  peers: string[];
  dataDir: string;
  logger: Logger;
  timing?: ZabTiming;
  snapshotEveryTxns?: number;
  snapshotRetain?: number;
  onFatal?: (err: unknown) => void;
}

export function startMetaRole(options: ReplicaRoleOptions): Promise<MetaReplica> {
  return MetaReplica.start(options);
}

export async function startShardRole(options: ReplicaRoleOptions & { group: string }): Promise<Stoppable> {
  const meta = new MetaClient({ transport: options.transport, prefix: options.prefix, logger: options.logger });
  const ring = await RingWatch.start(meta, await RingHasher.create(), options.logger);
  const shard = await ShardReplica.start({ ...options, meta, ring });
  return {
    async stop() {
      await shard.stop();
      ring.close();
      await meta.close();
    },
  };
}

export interface RouterRoleOptions {
  transport: Transport;
  prefix: string;
  logger: Logger;
  host: string;
  port: number;
  /** Groups to put on the ring when it has none (a fresh cluster). */
  initialGroups: string[];
}

export async function startRouterRole(options: RouterRoleOptions): Promise<Stoppable & { url: string }> {
  const { transport, prefix, logger } = options;
  const meta = new MetaClient({ transport, prefix, logger });
  const hasher = await RingHasher.create();
  if (options.initialGroups.length > 0) await new RingAdmin(meta, hasher, logger).bootstrap(options.initialGroups);
  const ring = await RingWatch.start(meta, hasher, logger);
  const metrics = createRouterMetrics();
  const backend = new ShardedClusterBackend({ transport, subjects: new Subjects(prefix), meta, ring, logger, metrics });
  const app = buildRouterHttp({ backend, logger, metrics });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    async stop() {
      await app.close();
      ring.close();
      await meta.close();
    },
  };
}
