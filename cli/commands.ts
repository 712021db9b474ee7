import type { Command } from './command.js';
import { devCommand } from './dev-command.js';
import { metaCommand } from './meta-command.js';
import { metaCreateCommand, metaGetCommand, metaLsCommand, metaRmCommand, metaSetCommand } from './meta-data-commands.js';

/** Every `shardkv` command, in the order `shardkv help` lists them. */
export const commands: Command[] = [
  devCommand,
  metaCommand,
  metaGetCommand,
  metaLsCommand,
  metaSetCommand,
  metaCreateCommand,
  metaRmCommand,
];
