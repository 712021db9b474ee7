import t from 'tap';
import { runSimulation } from './simulation.js';

t.test('a seed replays exactly: same events, same statistics', async (t) => {
  const first = runSimulation(42, { trace: true });
  const second = runSimulation(42, { trace: true });
  t.same(second.events, first.events);
  t.same(second.stats, first.stats);
  t.ok(first.events.length > 0, 'the run recorded events');
});

t.test('different seeds make different fault schedules', async (t) => {
  t.not(runSimulation(1).summary, runSimulation(2).summary);
});
