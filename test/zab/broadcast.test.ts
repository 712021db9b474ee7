import t from 'tap';
import { TestEnsemble } from './test-ensemble.js';

function followersOf(ensemble: TestEnsemble, leader: number): number[] {
  return ensemble.ids.filter((id) => id !== leader);
}

t.test('every replica applies the leader\'s proposals in zxid order', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3, 4, 5]);
  const leader = ensemble.electLeader();
  const engine = ensemble.engine(leader);
  const zxids: number[] = [];
  for (let i = 0; i < 20; i++) {
    zxids.push(engine.propose(new TextEncoder().encode(`x${i}`))!);
    if (i % 3 === 0) ensemble.drain();
  }
  ensemble.drain();
  t.same(zxids, [...zxids].sort((a, b) => a - b), 'zxids strictly increase');
  for (const id of ensemble.ids) {
    t.same(ensemble.node(id).appliedZxids, zxids, `node ${id} applied in zxid order`);
  }
});

t.test('proposals made in one step travel in one PROPOSAL message per follower', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  const before = ensemble.sent.length;
  const engine = ensemble.engine(leader);
  for (let i = 0; i < 64; i++) engine.propose(new TextEncoder().encode(`b${i}`));
  ensemble.drain();
  const proposals = ensemble.sent.slice(before).filter((m) => m.message.type === 'PROPOSAL');
  t.equal(proposals.length, 2, 'one message to each of the two followers');
  for (const { message } of proposals) t.equal(message.type === 'PROPOSAL' ? message.records.length : 0, 64);
  t.equal(ensemble.node(leader).applied.length, 64);
});

t.test('nothing commits until a quorum has it durable', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  const [f1, f2] = followersOf(ensemble, leader);
  for (const id of ensemble.ids) ensemble.node(id).autoPersist = false;
  ensemble.propose(leader, 'durable?');
  ensemble.tick(5);
  t.same(ensemble.node(leader).applied, [], 'no replica has it durable: not committed');
  ensemble.fsync(f1!);
  ensemble.tick(2);
  t.same(ensemble.node(leader).applied, [], 'one follower durable, the leader not: still not a quorum');
  ensemble.fsync(leader);
  t.same(ensemble.node(leader).applied, ['durable?'], 'leader + one follower durable: committed');
  ensemble.tick(2);
  t.same(ensemble.node(f1!).applied, ['durable?'], 'the durable follower applies it on COMMIT');
  t.same(ensemble.node(f2!).applied, ['durable?'], 'a follower applies a committed record even before its own fsync');
});

t.test('two durable followers make a quorum without the leader\'s own fsync', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  ensemble.node(leader).autoPersist = false;
  ensemble.propose(leader, 'q');
  t.same(ensemble.node(leader).applied, ['q']);
});

t.test('a proposal to a follower fails with NOT_LEADER and names the leader', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  const follower = followersOf(ensemble, leader)[0]!;
  const engine = ensemble.engine(follower);
  t.equal(engine.propose(new TextEncoder().encode('nope'), 42), undefined);
  const ready = engine.ready();
  engine.advance();
  t.same(ready.proposalsFailed, [{ tag: 42, code: 'NOT_LEADER', leader }]);
});

t.test('committed writes survive the leader\'s crash and the new leader keeps them first', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  ensemble.propose(leader, 'one');
  ensemble.propose(leader, 'two');
  ensemble.crash(leader);
  const survivors = followersOf(ensemble, leader);
  ensemble.tickUntil('a new leader', () => ensemble.leader() !== undefined);
  const next = ensemble.leader()!;
  t.ok(survivors.includes(next));
  ensemble.propose(next, 'three');
  for (const id of survivors) t.same(ensemble.node(id).applied, ['one', 'two', 'three'], `node ${id}`);
  t.ok(ensemble.engine(next).status().epoch > 0);
});
