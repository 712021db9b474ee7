import type { FlagSpec } from './flags.js';

/** Flags every process that joins a cluster over NATS shares (same names as the compose file's env). */
export const NATS_FLAG: FlagSpec = { name: 'nats', kind: 'string', default: 'nats://127.0.0.1:4222', description: 'NATS server URL(s), comma-separated' };
export const PREFIX_FLAG: FlagSpec = { name: 'prefix', kind: 'string', default: 'shardkv', description: 'cluster prefix of every NATS subject' };
export const TIMEOUT_FLAG: FlagSpec = { name: 'timeout-ms', kind: 'number', default: 10_000, description: 'deadline of one request, retries included' };
