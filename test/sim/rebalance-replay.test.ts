import t from 'tap';
import { runRebalanceSimulation } from './rebalance-simulation.js';

// Seed 17: two moves (A->B, then back), 18 replica crashes and 5 coordinator crashes.

t.test('a rebalance seed replays exactly: same events, same statistics', async (t) => {
  const first = await runRebalanceSimulation(17, { trace: true });
  const second = await runRebalanceSimulation(17, { trace: true });
  t.ok(first.ok, first.failure ?? first.summary);
  t.same(second.events, first.events);
  t.same(second.stats, first.stats);
  t.ok(first.events.some((event) => event.includes('ring v2')), 'the run moved the range');
});

t.test('different rebalance seeds make different runs', async (t) => {
  const [one, two] = [await runRebalanceSimulation(1), await runRebalanceSimulation(2)];
  t.not(one.summary, two.summary);
});
