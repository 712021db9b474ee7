import t from 'tap';
import { makeZxid as z } from '../../zab/zxid.js';
import { TestEnsemble } from './test-ensemble.js';

function records(...zxids: number[]): Array<{ zxid: number; payload: string }> {
  return zxids.map((zxid) => ({ zxid, payload: `p${zxid}` }));
}

t.test('a 3-node ensemble elects one leader and the others follow it', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  for (const id of [1, 2, 3]) {
    const status = ensemble.engine(id).status();
    t.equal(status.leader, leader, `node ${id} follows ${leader}`);
    t.equal(status.established, true);
    t.equal(status.epoch, ensemble.engine(leader).status().epoch, 'everyone is in the leader\'s epoch');
  }
});

t.test('a 5-node ensemble elects one leader and the others follow it', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3, 4, 5], { seed: 7 });
  const leader = ensemble.electLeader();
  const roles = [1, 2, 3, 4, 5].map((id) => ensemble.engine(id).status().role);
  t.equal(roles.filter((r) => r === 'leading').length, 1);
  t.equal(roles.filter((r) => r === 'following').length, 4);
  t.equal(ensemble.engine(leader).status().role, 'leading');
});

t.test('the peer with the highest last zxid wins, whatever its id', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3], {
    disks: {
      1: { currentEpoch: 1, records: records(z(1, 1), z(1, 2), z(1, 3)) },
      2: { currentEpoch: 1, records: records(z(1, 1), z(1, 2)) },
      3: { currentEpoch: 1, records: records(z(1, 1)) },
    },
  });
  t.equal(ensemble.electLeader(), 1);
});

t.test('a higher currentEpoch beats a higher zxid of an older epoch', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3], {
    disks: {
      1: { currentEpoch: 1, records: records(z(1, 1), z(1, 2), z(1, 3)) },
      2: { currentEpoch: 2, records: records(z(1, 1)) },
      3: { currentEpoch: 1, records: records(z(1, 1)) },
    },
  });
  t.equal(ensemble.electLeader(), 2);
});

t.test('equal credentials are broken by the higher id', async (t) => {
  const same = { currentEpoch: 1, records: records(z(1, 1), z(1, 2)) };
  const three = new TestEnsemble([1, 2, 3], { disks: { 1: same, 2: same, 3: same } });
  t.equal(three.electLeader(), 3);
  const five = new TestEnsemble([1, 2, 3, 4, 5], { seed: 3 });
  t.equal(five.electLeader(), 5);
});

t.test('a single-node ensemble leads alone and commits its own proposals', async (t) => {
  const ensemble = new TestEnsemble([1]);
  t.equal(ensemble.electLeader(), 1);
  const zxid = ensemble.propose(1, 'solo');
  t.ok(zxid !== undefined);
  t.same(ensemble.node(1).applied, ['solo']);
  t.same(ensemble.node(1).appliedZxids, [zxid]);
});

t.test('a new leader takes an epoch above every promise it heard', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3], { disks: { 2: { currentEpoch: 4, acceptedEpoch: 6, records: [] } } });
  const leader = ensemble.electLeader();
  t.ok(ensemble.engine(leader).status().epoch > 6, `epoch ${ensemble.engine(leader).status().epoch}`);
});
