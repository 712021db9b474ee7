/**
 * The rebalance simulator's checks can fail: protocols broken on purpose are caught, and so is
 * the leader's old answer-at-prepare of refused requests (ZabReplica.proposeWith), a fault of the
 * real code it found. The second fault it found (a source replica with a stale ring accepting
 * writes to a range it already dropped) is fixed in the tree and checked here by its seed.
 */
import t from 'tap';
import { runRebalanceSimulation, type RebalanceSimOptions } from './rebalance-simulation.js';

async function failuresIn(start: number, count: number, options: RebalanceSimOptions): Promise<string[]> {
  const failures: string[] = [];
  for (let seed = start; seed < start + count; seed++) {
    const result = await runRebalanceSimulation(seed, options);
    if (!result.ok) failures.push(`seed ${seed}: ${result.failure?.split('\n')[0] ?? ''}`);
  }
  return failures;
}

t.test('moving without a fence loses writes or breaks linearizability, and the checks say so', async (t) => {
  const failures = await failuresIn(0, 10, { broken: 'skip-fence', refusals: 'after-pending-commit' });
  t.ok(failures.length > 0, `failures: ${failures.join('; ')}`);
  t.ok(failures.every((failure) => /lost write|not linearizable/.test(failure)), failures.join('\n'));
});

t.test('fencing without tailing to the fence loses writes or breaks linearizability, and the checks say so', async (t) => {
  const failures = await failuresIn(0, 10, { broken: 'skip-tail-to-fence', refusals: 'after-pending-commit' });
  t.ok(failures.length > 0, `failures: ${failures.join('; ')}`);
  t.ok(failures.every((failure) => /lost write|not linearizable/.test(failure)), failures.join('\n'));
});

t.test('a leader that answers a refusal before the pending txns it rests on commit is not linearizable (seed 50)', async (t) => {
  // ZabReplica.proposeWith did this until it held refusals behind the proposals before them:
  // cas(v15) answered BAD_VERSION because of a pending cas that was then lost with the
  // leadership; a later read shows version 15. With the refusal held, seed 50 passes.
  const real = await runRebalanceSimulation(50, { refusals: 'at-prepare' });
  t.equal(real.ok, false, real.summary);
  t.match(real.failure ?? '', /not linearizable/);
  const deferred = await runRebalanceSimulation(50, { refusals: 'after-pending-commit' });
  t.ok(deferred.ok, deferred.failure ?? deferred.summary);
});

t.test('a source leader with a stale ring refuses writes to a range it dropped (seed 374, slow ring watches)', async (t) => {
  // Found by this simulator: move B->A committed ring v3 and B dropped the range and, then, its
  // fence; B's next leader still held ring v2 (its watch late) and a router still at v2 wrote
  // /d3/k to B: acknowledged, and invisible to A, the owner. Fences now stay after the drop and
  // refuse while a replica's ring is older than the ring that moved the range.
  const result = await runRebalanceSimulation(374, { ringWatchProbability: 0.01, routerWatchProbability: 0.005 });
  t.ok(result.ok, result.failure ?? result.summary);
  const failures = await failuresIn(360, 20, { ringWatchProbability: 0.01, routerWatchProbability: 0.005 });
  t.same(failures, [], 'slow ring watches everywhere: seeds 360-379');
});
