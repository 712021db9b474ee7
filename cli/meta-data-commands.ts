/**
 * `shardkv meta-get|meta-ls|meta-set|meta-create|meta-rm`: read and write the meta tree over
 * NATS (for operators and for bootstrapping; the router's GET /v1/meta/<path> reads it too).
 */
import { createLogger } from '../logging/logger.js';
import { MetaClient } from '../meta/meta-client.js';
import { connectNats } from '../net/nats.js';
import type { Stat } from '../znode/types.js';
import { NATS_FLAG, PREFIX_FLAG, TIMEOUT_FLAG } from './cluster-flags.js';
import type { Command } from './command.js';
import { UsageError, type FlagValues } from './flags.js';

const COMMON = [NATS_FLAG, PREFIX_FLAG, TIMEOUT_FLAG, { name: 'json', kind: 'boolean' as const, default: false, description: 'print JSON' }];

async function withMetaClient<T>(flags: FlagValues, use: (client: MetaClient) => Promise<T>): Promise<T> {
  const logger = createLogger({ role: 'cli' }, { level: process.env.LOG_LEVEL ?? 'warn' });
  const transport = await connectNats({ servers: String(flags.nats).split(','), logger, name: 'shardkv-cli' });
  const client = new MetaClient({ transport, prefix: String(flags.prefix), logger, timeout_ms: flags['timeout-ms'] as number });
  try {
    return await use(client);
  } finally {
    await client.close();
    await transport.close();
  }
}

function onePath(positional: string[]): string {
  const [path, ...rest] = positional;
  if (path === undefined || rest.length > 0) throw new UsageError('give exactly one path');
  return path;
}

function printStat(stat: Stat | null): string {
  if (stat === null) return 'no node';
  return Object.entries(stat).map(([key, value]) => `${key} = ${key.endsWith('zxid') ? `0x${Number(value).toString(16)}` : String(value)}`).join('\n');
}

const text = new TextDecoder();
const encoder = new TextEncoder();

export const metaGetCommand: Command = {
  name: 'meta-get',
  summary: 'print a node of the meta tree (data and stat)',
  usage: 'shardkv meta-get <path> [--nats URL] [--json]',
  flags: COMMON,
  async run(flags, positional) {
    const path = onePath(positional);
    const { data, stat } = await withMetaClient(flags, (client) => client.getData(path));
    const value = text.decode(data);
    if (flags.json === true) process.stdout.write(`${JSON.stringify({ path, data: value, stat })}\n`);
    else process.stdout.write(`${value}\n${printStat(stat)}\n`);
    return 0;
  },
};

export const metaLsCommand: Command = {
  name: 'meta-ls',
  summary: 'list the children of a meta tree node',
  usage: 'shardkv meta-ls <path> [--nats URL] [--json]',
  flags: COMMON,
  async run(flags, positional) {
    const path = onePath(positional);
    const { children } = await withMetaClient(flags, (client) => client.getChildren(path));
    process.stdout.write(flags.json === true ? `${JSON.stringify({ path, children })}\n` : children.map((child) => `${child}\n`).join(''));
    return 0;
  },
};

export const metaSetCommand: Command = {
  name: 'meta-set',
  summary: 'set the data of a meta tree node (optionally only at a version)',
  usage: 'shardkv meta-set <path> <data> [--version N]',
  flags: [...COMMON, { name: 'version', kind: 'number', default: -1, description: 'expected version, -1 for any' }],
  async run(flags, positional) {
    const [path, data, ...rest] = positional;
    if (path === undefined || data === undefined || rest.length > 0) throw new UsageError('give a path and the data');
    const stat = await withMetaClient(flags, (client) => client.setData(path, encoder.encode(data), flags.version as number));
    process.stdout.write(flags.json === true ? `${JSON.stringify({ path, stat })}\n` : `${printStat(stat)}\n`);
    return 0;
  },
};

export const metaCreateCommand: Command = {
  name: 'meta-create',
  summary: 'create a persistent node in the meta tree',
  usage: 'shardkv meta-create <path> [data]',
  flags: COMMON,
  async run(flags, positional) {
    const [path, data = '', ...rest] = positional;
    if (path === undefined || rest.length > 0) throw new UsageError('give a path and optionally the data');
    const created = await withMetaClient(flags, (client) => client.create(path, encoder.encode(data), 'persistent'));
    process.stdout.write(flags.json === true ? `${JSON.stringify(created)}\n` : `created ${created.path}\n`);
    return 0;
  },
};

export const metaRmCommand: Command = {
  name: 'meta-rm',
  summary: 'delete a meta tree node (it must have no children)',
  usage: 'shardkv meta-rm <path> [--version N]',
  flags: [...COMMON, { name: 'version', kind: 'number', default: -1, description: 'expected version, -1 for any' }],
  async run(flags, positional) {
    const path = onePath(positional);
    await withMetaClient(flags, (client) => client.delete(path, flags.version as number));
    if (flags.json !== true) process.stdout.write(`deleted ${path}\n`);
    return 0;
  },
};

