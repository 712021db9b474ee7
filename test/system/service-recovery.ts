/**
 * Waiting for one service of a ProcessCluster to be back in service after a restart: a router
 * healthy with every group on its ring, a replica (meta or shard) answering its status as
 * leading or following, and its group (or the meta ensemble) led again.
 */
import type { ServiceSpec } from '../../cli/topology.js';
import type { ProcessCluster } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';

const serving = (role: string | undefined): boolean => role === 'leading' || role === 'following';

export async function waitServiceBack(cluster: ProcessCluster, service: ServiceSpec, timeout_ms: number): Promise<void> {
  const id = service.flags.id as string;
  if (service.role === 'router') {
    await cluster.routerReady(service.name, timeout_ms);
  } else if (service.role === 'shard') {
    const group = service.flags.group as string;
    await waitFor(`${service.name} leading or following`, async () => serving((await cluster.status(group, id, 500)).role), timeout_ms, 100);
    await cluster.leader(group, timeout_ms);
  } else {
    const meta = cluster.metaClient();
    await waitFor(`${service.name} leading or following`, async () => serving((await meta.replicaStatus(id)).role), timeout_ms, 100);
  }
}

/** SIGTERM (what an operator's restart sends), wait for the exit, start it again. */
export async function gracefulRestart(cluster: ProcessCluster, name: string, stop_timeout_ms: number): Promise<void> {
  process.kill(cluster.pid(name), 'SIGTERM');
  await waitFor(`${name} to exit after SIGTERM`, () => !cluster.isRunning(name), stop_timeout_ms, 20);
  cluster.start(name);
}
