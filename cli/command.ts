import type { FlagSpec, FlagValues } from './flags.js';

/** One `shardkv <name>` command. run() returns the process exit status. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  run(flags: FlagValues, positional: string[]): Promise<number>;
}
