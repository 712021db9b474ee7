/** The data commands (`get set create rm ls watch ring`) over a router URL, built on the SDK. */
import type { Command } from '../command.js';
import { processIo, type DataCommandIo } from './data-command-io.js';
import { createCommand, getCommand, lsCommand, rmCommand, setCommand } from './node-commands.js';
import { ringCommand } from './ring-command.js';
import { dataCommand } from './router-flags.js';
import { watchCommand } from './watch-command.js';

export type { DataCommandIo } from './data-command-io.js';

export function createDataCommands(io: DataCommandIo): Command[] {
  return [getCommand, setCommand, createCommand, rmCommand, lsCommand, watchCommand, ringCommand].map((spec) => dataCommand(spec, io));
}

/** For cli/commands.ts: the data commands on the process's stdio. */
export const dataCommands: Command[] = createDataCommands(processIo());
