/**
 * Runs a range of rebalance-simulator seeds as tap tests, one test per seed. A failing seed
 * reports its summary, the failure, the last events and the command that replays it.
 */
import type { Test } from 'tap';
import { runRebalanceSimulation, type RebalanceSimOptions } from './rebalance-simulation.js';

export function checkRebalanceSeeds(t: Test, start: number, count: number, options: RebalanceSimOptions = {}): void {
  for (let seed = start; seed < start + count; seed++) {
    const what = options.sessions === true ? ', a stopped session or its ephemerals, or a live one' : '';
    t.test(`seed ${seed}: a range moves between two groups under faults without losing a write${what}`, async (t) => {
      const result = await runRebalanceSimulation(seed, options);
      const flags = (options.refusals !== undefined ? ` --refusals ${options.refusals}` : '') + (options.sessions === true ? ' --sessions' : '') +
        (options.expiredAnswers !== undefined ? ` --expired-answers ${options.expiredAnswers}` : '');
      const report = result.ok ? result.summary :
        `${result.summary}\n${result.failure}\nlast events:\n  ${result.events.slice(-30).join('\n  ')}\n` +
        `replay: node dist/test/sim/cli.js --rebalance --seed ${seed}${flags} --verbose`;
      t.ok(result.ok, report);
      t.not(result.stats.lincheck, 'failed', 'the client history is linearizable');
    });
  }
}
