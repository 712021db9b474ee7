/**
 * Asks one replica (meta or shard) for its status over NATS: healthy when it answers and is
 * leading or following (not looking for a leader). The compose healthcheck and the system
 * tests use it.
 */
import { createLogger } from '../logging/logger.js';
import { connectNats } from '../net/nats.js';
import { Subjects } from '../net/subjects.js';

export interface ReplicaProbeTarget {
  nats: string;
  prefix: string;
  /** `meta` or the shard group id. */
  ensemble: string;
  id: string;
  timeout_ms: number;
}

export interface ReplicaProbeResult {
  healthy: boolean;
  detail: string;
}

export async function probeReplica(target: ReplicaProbeTarget): Promise<ReplicaProbeResult> {
  const logger = createLogger({ role: 'cli', node: target.id, group: target.ensemble }, { level: 'silent' });
  let transport;
  try {
    transport = await connectNats({ servers: target.nats.split(','), logger, name: `probe-${target.ensemble}-${target.id}`, connect_timeout_ms: target.timeout_ms });
  } catch (err) {
    return { healthy: false, detail: (err as Error).message };
  }
  try {
    const subject = new Subjects(target.prefix).replicaStatus(target.ensemble, target.id);
    const status = await transport.request<{ role?: string; leader?: string }>(subject, { op: 'status' }, { timeout_ms: target.timeout_ms });
    const role = status.role ?? 'unknown';
    return { healthy: role === 'leading' || role === 'following', detail: `${target.ensemble}/${target.id} ${role}${status.leader === undefined ? '' : ` (leader ${status.leader})`}` };
  } catch (err) {
    return { healthy: false, detail: (err as Error).message };
  } finally {
    await transport.close();
  }
}
