/**
 * What every data command shares: the router URL and --json flags, the client, and the exit
 * statuses (0 done, 1 the server refused with a code, 2 usage errors via UsageError).
 */
import { ShardkvClient, ShardkvClientError } from '../../client/index.js';
import type { Command } from '../command.js';
import { UsageError, type FlagSpec, type FlagValues } from '../flags.js';
import type { DataCommandIo } from './data-command-io.js';

export const DEFAULT_ROUTER_URL = 'http://127.0.0.1:7070';

export const ROUTER_FLAGS: FlagSpec[] = [
  { name: 'router', description: 'router URL', kind: 'string', default: DEFAULT_ROUTER_URL },
  { name: 'json', description: 'print JSON instead of human text', kind: 'boolean', default: false },
];

export interface DataCommandContext {
  client: ShardkvClient;
  flags: FlagValues;
  positional: string[];
  json: boolean;
  io: DataCommandIo;
}

export interface DataCommandSpec {
  name: string;
  summary: string;
  /** Usage after `shardkv <name>`. */
  arguments: string;
  flags: FlagSpec[];
  /** Positional argument count, inclusive. */
  minArgs: number;
  maxArgs: number;
  run(context: DataCommandContext): Promise<void>;
}

/** A Command from a spec: argument checks, the client, and ShardkvClientError -> exit 1. */
export function dataCommand(spec: DataCommandSpec, io: DataCommandIo): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: `shardkv ${spec.name} ${spec.arguments} [--router URL] [--json]`.replace(/ +/g, ' '),
    flags: [...ROUTER_FLAGS, ...spec.flags],
    async run(flags, positional) {
      if (positional.length < spec.minArgs) throw new UsageError(`${spec.name} needs ${spec.arguments}`);
      if (positional.length > spec.maxArgs) throw new UsageError(`${spec.name} takes ${spec.arguments}, got ${positional.length} arguments`);
      const url = String(flags.router);
      if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--router must be an http(s) URL, got '${url}'`);
      const client = new ShardkvClient({ url });
      try {
        await spec.run({ client, flags, positional, json: flags.json === true, io });
        return 0;
      } catch (err) {
        if (err instanceof ShardkvClientError) {
          io.stderr.write(`shardkv ${spec.name}: ${err.code}: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
    },
  };
}

export function printJson(io: DataCommandIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

/** An integer flag that must be at least `min`, or undefined when absent. */
export function integerFlag(flags: FlagValues, name: string, min: number): number | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}
