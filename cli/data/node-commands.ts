/** `get`, `set`, `create`, `rm` and `ls`: one node operation each, through the router. */
import type { CreateMode, Stat } from '../../client/index.js';
import { UsageError } from '../flags.js';
import { readAll, type DataCommandIo } from './data-command-io.js';
import { integerFlag, printJson, type DataCommandContext, type DataCommandSpec } from './router-flags.js';

const CREATE_MODES: readonly CreateMode[] = [
  'persistent',
  'ephemeral',
  'sequential',
  'persistent_sequential',
  'ephemeral_sequential',
  'container',
  'ttl',
  'persistent_with_ttl',
  'persistent_sequential_with_ttl',
];

function printStat(io: DataCommandIo, stat: Stat): void {
  const width = Math.max(...Object.keys(stat).map((key) => key.length));
  for (const [key, value] of Object.entries(stat)) io.stdout.write(`${key.padEnd(width)}  ${value}\n`);
}

/** The data argument, or stdin when it is absent (`-` also means stdin). */
async function dataArgument(context: DataCommandContext): Promise<Uint8Array | string> {
  const argument = context.positional[1];
  if (argument === undefined || argument === '-') return readAll(context.io.stdin);
  return argument;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export const getCommand: DataCommandSpec = {
  name: 'get',
  summary: 'print the data of a node',
  arguments: '<path>',
  flags: [
    { name: 'stat', description: 'also print the stat', kind: 'boolean', default: false },
    { name: 'consistency', description: 'linearizable, sequential or stale', kind: 'string', default: 'linearizable' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run({ client, flags, positional, json, io }) {
    const consistency = String(flags.consistency);
    if (consistency !== 'linearizable' && consistency !== 'sequential' && consistency !== 'stale') {
      throw new UsageError(`--consistency must be linearizable, sequential or stale, got '${consistency}'`);
    }
    const node = await client.get(positional[0]!, { consistency });
    if (json) {
      const data = node.text === null ? { data: base64(node.data), encoding: 'base64' } : { data: node.text, encoding: 'utf8' };
      printJson(io, { path: node.path, ...data, stat: node.stat });
      return;
    }
    // The bytes as they are, so that `shardkv get /x > file` copies binary data exactly.
    io.stdout.write(node.data);
    if (node.text !== null && node.text !== '' && !node.text.endsWith('\n')) io.stdout.write('\n');
    if (flags.stat === true) printStat(io, node.stat);
  },
};

export const setCommand: DataCommandSpec = {
  name: 'set',
  summary: 'set the data of a node (from the argument, or stdin)',
  arguments: '<path> [data]',
  flags: [{ name: 'version', description: 'only if the node has this version (-1: any)', kind: 'number' }],
  minArgs: 1,
  maxArgs: 2,
  async run(context) {
    const version = integerFlag(context.flags, 'version', -1);
    const data = await dataArgument(context);
    const result = await context.client.set(context.positional[0]!, data, version === undefined ? {} : { version });
    if (context.json) printJson(context.io, result);
    else context.io.stdout.write(`set ${result.path} (version ${result.stat.version})\n`);
  },
};

export const createCommand: DataCommandSpec = {
  name: 'create',
  summary: 'create a node (data from the argument, or empty)',
  arguments: '<path> [data]',
  flags: [
    { name: 'mode', description: CREATE_MODES.join('|'), kind: 'string', default: 'persistent' },
    { name: 'ttl', description: 'time to live in ms, for the ttl modes', kind: 'number' },
    { name: 'session', description: 'owning session id, for the ephemeral modes', kind: 'string' },
  ],
  minArgs: 1,
  maxArgs: 2,
  async run({ client, flags, positional, json, io }) {
    const mode = String(flags.mode) as CreateMode;
    if (!CREATE_MODES.includes(mode)) throw new UsageError(`--mode must be one of ${CREATE_MODES.join(', ')}, got '${mode}'`);
    const ttl_ms = integerFlag(flags, 'ttl', 1);
    const session = flags.session === undefined ? undefined : String(flags.session);
    const result = await client.create(positional[0]!, positional[1] ?? '', {
      mode,
      ...(ttl_ms === undefined ? {} : { ttl_ms }),
      ...(session === undefined ? {} : { session }),
    });
    if (json) printJson(io, result);
    else io.stdout.write(`created ${result.path}\n`);
  },
};

export const rmCommand: DataCommandSpec = {
  name: 'rm',
  summary: 'delete a node (its children stay: parents are implicit)',
  arguments: '<path>',
  flags: [{ name: 'version', description: 'only if the node has this version (-1: any)', kind: 'number' }],
  minArgs: 1,
  maxArgs: 1,
  async run({ client, flags, positional, json, io }) {
    const version = integerFlag(flags, 'version', -1);
    const path = positional[0]!;
    await client.delete(path, version === undefined ? {} : { version });
    if (json) printJson(io, { path, deleted: true });
    else io.stdout.write(`deleted ${path}\n`);
  },
};

export const lsCommand: DataCommandSpec = {
  name: 'ls',
  summary: 'list the children of a node',
  arguments: '<path>',
  flags: [],
  minArgs: 1,
  maxArgs: 1,
  async run({ client, positional, json, io }) {
    const list = await client.children(positional[0]!);
    if (json) printJson(io, list);
    else for (const name of list.children) io.stdout.write(`${name}\n`);
  },
};
