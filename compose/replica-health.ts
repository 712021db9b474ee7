/**
 * The compose healthcheck of a meta or shard replica container: reads the same
 * environment the replica runs with (SHARDKV_NATS, SHARDKV_PREFIX, SHARDKV_ID and, for a
 * shard, SHARDKV_GROUP), probes the replica's status and exits 0 when it is healthy.
 */
import { envName } from '../cli/flags.js';
import { probeReplica } from './replica-probe.js';

const env = (flag: string): string | undefined => {
  const value = process.env[envName(flag)];
  return value === undefined || value === '' ? undefined : value;
};

const id = env('id');
if (id === undefined) {
  process.stderr.write(`replica-health: ${envName('id')} is not set\n`);
  process.exitCode = 2;
} else {
  const result = await probeReplica({
    nats: env('nats') ?? 'nats://127.0.0.1:4222',
    prefix: env('prefix') ?? 'shardkv',
    ensemble: env('group') ?? 'meta',
    id,
    timeout_ms: 3000,
  });
  process.stdout.write(`${result.healthy ? 'healthy' : 'unhealthy'}: ${result.detail}\n`);
  process.exitCode = result.healthy ? 0 : 1;
}
