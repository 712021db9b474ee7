/**
 * Runs a range of simulator seeds as tap tests, one test per seed. A failing seed reports its
 * fault summary, the failure, the last events and the command that replays it exactly.
 */
import type { Test } from 'tap';
import { runSimulation } from './simulation.js';

export function checkSeeds(t: Test, start: number, count: number): void {
  for (let seed = start; seed < start + count; seed++) {
    t.test(`seed ${seed} keeps ZAB's guarantees under mixed faults`, async (t) => {
      const result = runSimulation(seed);
      const report = result.ok ? result.summary :
        `${result.summary}\n${result.failure}\nlast events:\n  ${result.events.slice(-25).join('\n  ')}\n` +
        `replay: node dist/test/sim/cli.js --seed ${seed} --verbose`;
      t.ok(result.ok, report);
      t.not(result.stats.lincheck, 'failed', 'the client history is linearizable');
    });
  }
}
