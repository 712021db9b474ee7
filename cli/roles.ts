/**
 * Starting each role on a transport: used by the role commands (one role per process, over
 * NATS) and by `shardkv dev` (every role in one process, over the in-process bus), so both run
 * exactly the same code.
 */
import { randomBytes } from 'node:crypto';
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
import { registerAdminRoutes } from '../router/http/admin-routes.js';
import { RebalanceCoordinator } from '../router/rebalance/coordinator.js';
import { GroupLeaderClient } from '../router/rebalance/group-leader-client.js';
import { RebalanceAdmin } from '../router/rebalance/rebalance-admin.js';
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

/** Errors after which a start-up call to the meta ensemble may succeed later (it is still electing, or starting). */
const META_NOT_READY = new Set(['NO_LEADER', 'NOT_LEADER', 'TIMEOUT', 'UNAVAILABLE', 'CONNECTION_LOSS', 'NO_NODE']);

/**
 * Retries a start-up step that needs the meta ensemble until it answers: processes of a
 * topology start in any order, and the ensemble may take a while to elect on a loaded machine.
 */
async function whenMetaAnswers<T>(what: string, step: () => Promise<T>, logger: Logger, deadline_ms = 180_000): Promise<T> {
  const deadline = Date.now() + deadline_ms;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !META_NOT_READY.has(code) || Date.now() > deadline) throw err;
      logger.warn({ attempt, code }, `${what}: the meta ensemble is not ready; retrying`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2_000)));
    }
  }
}

export function startMetaRole(options: ReplicaRoleOptions): Promise<MetaReplica> {
  return MetaReplica.start(options);
}

export async function startShardRole(options: ReplicaRoleOptions & { group: string }): Promise<Stoppable> {
  const meta = new MetaClient({ transport: options.transport, prefix: options.prefix, logger: options.logger });
  const hasher = await RingHasher.create();
  const ring = await whenMetaAnswers('reading the ring', () => RingWatch.start(meta, hasher, options.logger), options.logger);
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
  /** This router's name in the rebalance coordinator election. Default router-<random>. */
  routerId?: string;
  /** Rebalance copy throttle per transfer, bytes per second (0 = unthrottled). Default 16 MiB/s. */
  rebalanceRate_bytes_per_s?: number;
}

export async function startRouterRole(options: RouterRoleOptions): Promise<Stoppable & { url: string }> {
  const { transport, prefix, logger } = options;
  const meta = new MetaClient({ transport, prefix, logger });
  const hasher = await RingHasher.create();
  if (options.initialGroups.length > 0) {
    const initialGroups = options.initialGroups;
    await whenMetaAnswers('writing the initial ring', () => new RingAdmin(meta, hasher, logger).bootstrap(initialGroups), logger);
  }
  const ring = await whenMetaAnswers('reading the ring', () => RingWatch.start(meta, hasher, logger), logger);
  const metrics = createRouterMetrics();
  const backend = new ShardedClusterBackend({ transport, subjects: new Subjects(prefix), meta, ring, logger, metrics });
  const app = buildRouterHttp({ backend, logger, metrics });
  const ringAdmin = new RingAdmin(meta, hasher, logger);
  await registerAdminRoutes(app, { admin: new RebalanceAdmin(meta, ringAdmin) });
  const coordinator = new RebalanceCoordinator({
    routerId: options.routerId ?? `router-${process.pid}-${randomBytes(2).toString('hex')}`,
    meta, leaders: new GroupLeaderClient(transport, new Subjects(prefix)), ringAdmin, hasher, logger,
    ...(options.rebalanceRate_bytes_per_s === undefined ? {} : { rate_bytes_per_s: options.rebalanceRate_bytes_per_s }),
  });
  coordinator.start();
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    async stop() {
      await coordinator.stop();
      await app.close();
      ring.close();
      await meta.close();
    },
  };
}
