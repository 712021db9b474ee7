#!/usr/bin/env node
/**
 * Runs the ZAB simulator. `--seeds N [--start S]` runs N seeds from S and prints a summary;
 * `--seed N [--verbose]` replays one seed exactly and prints its summary (and fault trace).
 * Exits 1 when any seed fails; every failure prints its seed and how to replay it.
 */
import { runSimulation } from './simulation.js';

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

function main(): void {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const single = flag(args, '--seed');
  const start = Number(single ?? flag(args, '--start') ?? 0);
  const count = single !== undefined ? 1 : Number(flag(args, '--seeds') ?? 100);
  if (!Number.isInteger(start) || !Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: cli.js --seeds N [--start S] | --seed N [--verbose]\n');
    process.exit(2);
  }
  const began = Date.now();
  const failures: number[] = [];
  let unknown = 0;
  for (let seed = start; seed < start + count; seed++) {
    const result = runSimulation(seed, { trace: verbose });
    if (result.stats.lincheck === 'unknown') unknown += 1;
    if (verbose || !result.ok) process.stdout.write(`${result.ok ? 'ok  ' : 'FAIL'} ${result.summary}\n`);
    if (!result.ok) {
      failures.push(seed);
      process.stdout.write(`  ${result.failure}\n  last events:\n    ${result.events.slice(-30).join('\n    ')}\n`);
      process.stdout.write(`  replay: node dist/test/sim/cli.js --seed ${seed} --verbose\n`);
    } else if (verbose) {
      process.stdout.write(`  events:\n    ${result.events.join('\n    ')}\n`);
    }
  }
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  process.stdout.write(`sim: ${count} seeds from ${start}: ${count - failures.length} passed, ${failures.length} failed, ` +
    `${unknown} lincheck inconclusive, ${seconds} s${failures.length > 0 ? `; failing seeds: ${failures.join(' ')}` : ''}\n`);
  process.exit(failures.length > 0 ? 1 : 0);
}

main();
