import t from 'tap';
import { ProcessCluster } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';
import { SeededRandom } from '../lincheck/seeded-random.js';
import { waitServiceBack } from './service-recovery.js';
import { WriteLoad } from './write-load.js';

const CHAOS_MS = 20_000;
const KILL_EVERY_MS = 2_500;
/** A killed process stays down this long before it is started again (others may be killed meanwhile). */
const DOWN_MS = 1_500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('SIGKILL of a random process every few seconds under write load, then heal: every acknowledged write reads back', async (t) => {
  const seed = Number(process.env.SHARDKV_CHAOS_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (rerun with SHARDKV_CHAOS_SEED=${seed})`);
  const random = new SeededRandom(seed);
  const cluster = await ProcessCluster.startFor(t, { routers: 2 });
  const load = new WriteLoad({
    routers: cluster.routerNames.map((name) => cluster.routerUrl(name)),
    workers: 3,
    maxWrites: 4_000,
    writeDeadline_ms: 10_000,
    pause_ms: 5,
  });
  await load.start();
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await load.stop();
  });
  await waitFor('writes acknowledged before the first kill', () => load.acknowledgedCount >= 20, 15_000);

  // The schedule: a kill every KILL_EVERY_MS (a timed fault schedule, not a wait for an event);
  // each victim is started again DOWN_MS later.
  const restarts: Array<Promise<void>> = [];
  const killed: string[] = [];
  const chaosEnd = Date.now() + CHAOS_MS;
  while (Date.now() < chaosEnd) {
    const candidates = cluster.services.map((service) => service.name).filter((name) => cluster.isRunning(name));
    const victim = random.pick(candidates);
    await cluster.kill(victim);
    killed.push(victim);
    restarts.push(sleep(DOWN_MS).then(() => {
      if (!cluster.isRunning(victim)) cluster.start(victim);
    }));
    await sleep(KILL_EVERY_MS);
  }
  await Promise.all(restarts);
  t.comment(`killed: ${killed.join(', ')}`);

  // Heal: everything running, every router ready, every group led; then the load must progress.
  for (const service of cluster.services) if (!cluster.isRunning(service.name)) cluster.start(service.name);
  for (const service of cluster.services) await waitServiceBack(cluster, service, 30_000);
  const healed = load.acknowledgedCount;
  await waitFor('writes acknowledged after the heal', () => load.acknowledgedCount >= healed + 20, 20_000);
  const report = await load.stop();
  stopped = true;
  t.comment(`${report.acknowledged} writes acknowledged, ${report.retries} retried attempts, ${report.failed.length} failed after retries (indeterminate)`);
  t.same(report.unexpected, [], 'no write met an error other than a transient one');
  t.same(await load.verify(), [], 'every acknowledged write reads back with its value');
});
