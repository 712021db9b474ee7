/**
 * The rebalance simulator's checks can fail: protocols broken on purpose are caught, and so are
 * the two faults of the real code it found, in the form they had before their fixes: the
 * leader's answer-at-prepare of refused requests (ZabReplica.proposeWith), and a source replica
 * with a stale ring accepting writes to a range it already dropped.
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

t.test('a source leader with a stale ring accepts writes to a range it dropped (seed 374, slow ring watches)', async (t) => {
  // Move B->A committed ring v3 and B dropped the range and its fence; B's next leader still
  // held ring v2 (its watch late) and a router still at v2 wrote /d3/k to B: acknowledged, and
  // invisible to A, the owner. Nothing replicated on B remembers that the range left.
  const result = await runRebalanceSimulation(374, { refusals: 'after-pending-commit', ringWatchProbability: 0.01, routerWatchProbability: 0.005 });
  t.equal(result.ok, false, result.summary);
  t.match(result.failure ?? '', /group B holds \/d3\/k, which belongs to A at ring v3/);
});
