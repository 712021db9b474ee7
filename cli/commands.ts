import { composeCommand } from '../compose/compose-command.js';
import type { Command } from './command.js';
import { groupCommand, rebalanceCommand } from './admin-commands.js';
import { dataCommands } from './data/index.js';
import { devCommand } from './dev-command.js';
import { metaCommand, routerCommand, shardCommand } from './role-commands.js';
import { downCommand, upCommand } from './up-commands.js';
import { metaCreateCommand, metaGetCommand, metaLsCommand, metaRmCommand, metaSetCommand } from './meta-data-commands.js';

/** Every `shardkv` command, in the order `shardkv help` lists them. */
export const commands: Command[] = [
  devCommand,
  upCommand,
  downCommand,
  composeCommand,
  metaCommand,
  shardCommand,
  routerCommand,
  metaGetCommand,
  metaLsCommand,
  metaSetCommand,
  metaCreateCommand,
  metaRmCommand,
  groupCommand,
  rebalanceCommand,
  ...dataCommands,
];
