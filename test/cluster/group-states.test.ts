// GET /v1/groups as the router's backend answers it: groups on the ring with their ring state,
// and a group that runs and is registered in meta but is not on the ring as `spare`.
import t from 'tap';
import { ShardedClusterBackend } from '../../router/cluster-backend.js';
import { createRouterMetrics } from '../../router/http/metrics.js';
import { InProcessCluster } from '../rebalance/in-process-cluster.js';
import { waitFor } from '../support/wait.js';

t.test('a running group outside the ring is listed as spare, with its members and leader', async (t) => {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1'], spareGroups: ['g2'] });
  t.teardown(() => cluster.stop());
  const kit = await cluster.router();
  const backend = new ShardedClusterBackend({
    transport: kit.transport, subjects: cluster.subjects, meta: kit.meta, ring: kit.ring, logger: cluster.logger, metrics: createRouterMetrics(),
  });
  const groups = await waitFor('both groups listed with a leader', async () => {
    const listed = await backend.groups();
    return listed.length === 2 && listed.every((group) => group.leader !== null) ? listed : undefined;
  }, 20_000);
  t.same(groups.map((group) => [group.id, group.state]), [['g1', 'active'], ['g2', 'spare']]);
  t.equal(groups[1]!.members.length, 3, 'the spare group lists its three replicas');
});
