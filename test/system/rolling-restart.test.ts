import t from 'tap';
import { ProcessCluster } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';
import { gracefulRestart, waitServiceBack } from './service-recovery.js';
import { WriteLoad } from './write-load.js';

t.test('a rolling restart of every process under write load fails no write beyond retries and loses no acknowledged write', async (t) => {
  const cluster = await ProcessCluster.startFor(t, { routers: 2 });
  const load = new WriteLoad({
    routers: cluster.routerNames.map((name) => cluster.routerUrl(name)),
    workers: 3,
    maxWrites: 4_000,
    writeDeadline_ms: 20_000,
    pause_ms: 5,
  });
  await load.start();
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await load.stop();
  });
  await waitFor('writes acknowledged before the first restart', () => load.acknowledgedCount >= 20, 15_000);
  for (const service of cluster.services) {
    const started = Date.now();
    await gracefulRestart(cluster, service.name, 10_000);
    await waitServiceBack(cluster, service, 30_000);
    const before = load.acknowledgedCount;
    await waitFor(`writes acknowledged after restarting ${service.name}`, () => load.acknowledgedCount >= before + 5, 20_000);
    t.comment(`${service.name} restarted and back in ${Date.now() - started} ms (${load.acknowledgedCount} writes acknowledged so far)`);
  }
  const report = await load.stop();
  stopped = true;
  t.comment(`${report.acknowledged} writes acknowledged, ${report.retries} retried attempts`);
  t.same(report.unexpected, [], 'no write met an error other than a transient one');
  t.same(report.failed, [], 'no write failed beyond its retries');
  t.ok(report.acknowledged >= 20 + 5 * cluster.services.length, 'the load kept being acknowledged through every restart');
  t.same(await load.verify(), [], 'every acknowledged write reads back with its value');
});
