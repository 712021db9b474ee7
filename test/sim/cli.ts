#!/usr/bin/env node
/**
 * Runs the ZAB simulator. `--seeds N [--start S]` runs N seeds from S and prints a summary;
 * `--seed N [--verbose]` replays one seed exactly and prints its summary (and fault trace).
 * `--rebalance` runs the range-move simulator instead (rebalance-simulation.ts), with
 * `--broken skip-fence|skip-tail-to-fence`, `--refusals at-prepare|after-pending-commit|confirmed`, and
 * `--ring-watch P --router-watch P` (chance per tick that a replica's / a router's ring watch
 * delivers a newer ring; small values make ring views lag), `--sessions` (sessions and
 * ephemerals, sim-sessions.ts; `--broken expire-without-authority` breaks their expiry rule;
 * `--expired-answers after-barrier` models the suggested fix of a deposed leader's SESSION_EXPIRED).
 * Exits 1 when any seed fails; every failure prints its seed and how to replay it.
 */
import { runRebalanceSimulation, type BrokenProtocol, type RebalanceSimOptions } from './rebalance-simulation.js';
import { runSimulation } from './simulation.js';

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rebalance = args.includes('--rebalance');
  const broken = flag(args, '--broken') as BrokenProtocol | undefined;
  const refusals = flag(args, '--refusals') as RebalanceSimOptions['refusals'];
  const ringWatch = flag(args, '--ring-watch');
  const routerWatch = flag(args, '--router-watch');
  const rebalanceOptions: RebalanceSimOptions = {
    trace: args.includes('--verbose'),
    ...(broken === undefined ? {} : { broken }),
    ...(refusals === undefined ? {} : { refusals }),
    ...(ringWatch === undefined ? {} : { ringWatchProbability: Number(ringWatch) }),
    ...(routerWatch === undefined ? {} : { routerWatchProbability: Number(routerWatch) }),
    ...(args.includes('--sessions') ? { sessions: true } : {}),
    ...(flag(args, '--expired-answers') === undefined ? {} : { expiredAnswers: flag(args, '--expired-answers') as RebalanceSimOptions['expiredAnswers'] }),
  };
  // The rebalance options of this run, as a replay command line repeats them.
  const replayFlags = ['--broken', '--refusals', '--ring-watch', '--router-watch', '--expired-answers']
    .flatMap((name) => (flag(args, name) === undefined ? [] : [name, flag(args, name) as string]))
    .concat(args.includes('--sessions') ? ['--sessions'] : []);
  const verbose = args.includes('--verbose');
  const single = flag(args, '--seed');
  const start = Number(single ?? flag(args, '--start') ?? 0);
  const count = single !== undefined ? 1 : Number(flag(args, '--seeds') ?? 100);
  if (!Number.isInteger(start) || !Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: cli.js [--rebalance [--broken B] [--refusals R] [--ring-watch P] [--router-watch P] [--sessions [--expired-answers local|after-barrier]]] --seeds N [--start S] | --seed N [--verbose]\n');
    process.exit(2);
  }
  const began = Date.now();
  const failures: number[] = [];
  let unknown = 0;
  for (let seed = start; seed < start + count; seed++) {
    const result = rebalance ? await runRebalanceSimulation(seed, rebalanceOptions) : runSimulation(seed, { trace: verbose });
    if (result.stats.lincheck === 'unknown') unknown += 1;
    if (verbose || !result.ok) process.stdout.write(`${result.ok ? 'ok  ' : 'FAIL'} ${result.summary}\n`);
    if (!result.ok) {
      failures.push(seed);
      process.stdout.write(`  ${result.failure}\n  last events:\n    ${result.events.slice(-30).join('\n    ')}\n`);
      const extra = rebalance ? `--rebalance ${replayFlags.join(' ')} ` : '';
      process.stdout.write(`  replay: node dist/test/sim/cli.js ${extra}--seed ${seed} --verbose\n`);
    } else if (verbose) {
      process.stdout.write(`  events:\n    ${result.events.join('\n    ')}\n`);
    }
  }
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  process.stdout.write(`${rebalance ? 'rebalance sim' : 'sim'}: ${count} seeds from ${start}: ${count - failures.length} passed, ${failures.length} failed, ` +
    `${unknown} lincheck inconclusive, ${seconds} s${failures.length > 0 ? `; failing seeds: ${failures.join(' ')}` : ''}\n`);
  process.exit(failures.length > 0 ? 1 : 0);
}

void main();
