import t from 'tap';
import { TestEnsemble } from './test-ensemble.js';

t.test('a leader cut off from its quorum steps down within the leader timeout', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3], { electionTimeoutTicks: 10 });
  const leader = ensemble.electLeader();
  ensemble.isolate(leader);
  ensemble.tick(13);
  t.equal(ensemble.engine(leader).status().role, 'looking');
  t.match(ensemble.node(leader).roles.at(-1), { role: 'looking', reason: /quorum/ });
});

t.test('a leader that keeps one follower of three keeps leading', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  const follower = ensemble.ids.find((id) => id !== leader)!;
  ensemble.cutLink(leader, follower);
  ensemble.tick(40);
  t.equal(ensemble.engine(leader).status().role, 'leading');
  t.ok(ensemble.propose(leader, 'still') !== undefined);
  t.same(ensemble.node(leader).applied, ['still']);
});

t.test('followers that lose their leader elect a new one among themselves', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3, 4, 5]);
  const leader = ensemble.electLeader();
  ensemble.crash(leader);
  ensemble.tickUntil('a new established leader', () => ensemble.leader() !== undefined, 200);
  const next = ensemble.leader()!;
  t.not(next, leader);
  for (const id of ensemble.ids.filter((id) => id !== leader)) {
    t.match(ensemble.node(id).roles.find((r) => r.role === 'looking' && r.reason !== 'start'), { reason: /silent|quorum/ }, `node ${id} noticed`);
  }
});

t.test('a minority side never commits, the majority side does, and the healed ensemble converges', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3, 4, 5]);
  const leader = ensemble.electLeader();
  const minority = [leader, ensemble.ids.find((id) => id !== leader)!];
  const majority = ensemble.ids.filter((id) => !minority.includes(id));
  for (const a of minority) for (const b of majority) ensemble.cutLink(a, b);
  ensemble.propose(leader, 'lost?');
  ensemble.tickUntil('a majority leader', () => majority.some((id) => ensemble.engine(id).status().role === 'leading' && ensemble.engine(id).status().established), 200);
  const next = majority.find((id) => ensemble.engine(id).status().role === 'leading')!;
  ensemble.propose(next, 'kept');
  t.same(ensemble.node(leader).applied, [], 'the old leader never committed alone');
  ensemble.heal();
  ensemble.tickUntil('everyone applied "kept"', () => ensemble.ids.every((id) => ensemble.node(id).applied.includes('kept')), 300);
  for (const id of ensemble.ids) t.same(ensemble.node(id).applied, ['kept'], `node ${id}: the uncommitted proposal is gone`);
});
