import t from 'tap';
import { TestEnsemble } from './test-ensemble.js';

t.test('a linearizable read is confirmed by the leader after a quorum round', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  ensemble.propose(leader, 'x');
  ensemble.read(leader, 7);
  t.same(ensemble.node(leader).readsConfirmed, [7]);
});

t.test('a read is not confirmed while the leader cannot reach a quorum, and fails when it steps down', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  ensemble.isolate(leader);
  ensemble.read(leader, 1);
  ensemble.tick(3);
  t.same(ensemble.node(leader).readsConfirmed, [], 'no quorum answered the round');
  ensemble.tickUntil('the leader stepped down', () => ensemble.engine(leader).status().role !== 'leading', 50);
  t.same(ensemble.node(leader).readsFailed, [1]);
});

t.test('reads requested in one step share one quorum round', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  const before = ensemble.sent.length;
  const engine = ensemble.engine(leader);
  for (let id = 1; id <= 10; id++) engine.requestRead(id);
  ensemble.drain();
  const pings = ensemble.sent.slice(before).filter((m) => m.message.type === 'PING');
  t.equal(pings.length, 2, 'one PING per follower for ten reads');
  t.same(ensemble.node(leader).readsConfirmed, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

t.test('a read on a follower fails with NOT_LEADER', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  const follower = ensemble.ids.find((id) => id !== leader)!;
  ensemble.read(follower, 3);
  t.same(ensemble.node(follower).readsFailed, [3]);
  t.same(ensemble.node(follower).readsConfirmed, []);
});

t.test('a single-node leader confirms reads at once', async (t) => {
  const ensemble = new TestEnsemble([1]);
  ensemble.electLeader();
  ensemble.read(1, 5);
  t.same(ensemble.node(1).readsConfirmed, [5]);
});
