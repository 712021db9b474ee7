// A leader's refusal that rests on a write it proposed but has not committed is held until that
// write is applied (ZabReplica.proposeWith). Answered at once, BAD_VERSION would tell a client a
// write happened which the leader may then lose with its leadership (found by the rebalance
// simulator, test/sim/rebalance-broken.test.ts). Here: a leader cut off from its followers.
import t from 'tap';
import { ShardkvError } from '../../errors/codes.js';
import { placementKey } from '../../ring/path.js';
import type { ShardRequest } from '../../protocol/shard.js';
import { InProcessCluster } from '../rebalance/in-process-cluster.js';

t.test('a BAD_VERSION that rests on an uncommitted write becomes NOT_LEADER when that write is lost', async (t) => {
  const cluster = await InProcessCluster.start({ ringGroups: ['g1'] });
  t.teardown(() => cluster.stop());
  const kit = await cluster.router();
  await kit.forwarder.send(placementKey('/held/k'), { op: 'create', path: '/held/k', data: new Uint8Array([1]), mode: 'persistent', sessionId: 0 }, false);
  const toLeader = (request: ShardRequest): Promise<unknown> =>
    kit.transport.request(cluster.subjects.groupLeader('g1'), request, { timeout_ms: 10_000, noRespondersCode: 'NO_LEADER' });
  const setData = (version: number): ShardRequest => ({ op: 'setData', path: '/held/k', data: new Uint8Array([2]), version, ringVersion: kit.ring.ring.version });

  // With its quorum, a refusal after a committed write answers BAD_VERSION.
  await toLeader(setData(0));
  await t.rejects(toLeader(setData(0)), { code: 'BAD_VERSION' }, 'a committed write: BAD_VERSION');

  const leader = await cluster.leaderOf('g1');
  for (const id of cluster.replicaIds.filter((id) => id !== leader)) await cluster.stopReplica('g1', id);
  const first = toLeader(setData(1)).then(() => 'acknowledged', (err: unknown) => (err instanceof ShardkvError ? err.code : String(err)));
  const second = toLeader(setData(1)).then(() => 'acknowledged', (err: unknown) => (err instanceof ShardkvError ? err.code : String(err)));
  // The leader loses its quorum and steps down: the first write's outcome is unknown, and the
  // second, refused only because of the first, must not claim that the first happened.
  t.equal(await first, 'CONNECTION_LOSS', 'the write cut off from its quorum: outcome unknown');
  t.equal(await second, 'NOT_LEADER', 'the refusal resting on it: NOT_LEADER (retry), not BAD_VERSION');
});
