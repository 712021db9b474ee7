#!/usr/bin/env node
import { commands } from './commands.js';
import { flagHelp, parseFlags, UsageError } from './flags.js';
import { ShardkvError } from '../errors/codes.js';

function usage(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return `usage: shardkv <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\n'shardkv <command> --help' shows a command's flags.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) {
    process.stderr.write(`shardkv: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help')) {
    process.stdout.write(`usage: ${command.usage}\n${command.summary}\n\nflags:\n${flagHelp(command.flags)}\n`);
    return 0;
  }
  try {
    const { flags, positional } = parseFlags(rest, command.flags);
    return await command.run(flags, positional);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`shardkv ${command.name}: ${err.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    if (err instanceof ShardkvError) {
      process.stderr.write(`shardkv ${command.name}: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

// Until the command settles, an exit means something died silently (a pending promise with
// nothing keeping the event loop alive): that must not look like success.
process.exitCode = 1;
main(process.argv.slice(2)).then(
  (status) => { process.exitCode = status; },
  (err: unknown) => {
    process.stderr.write(`shardkv: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
