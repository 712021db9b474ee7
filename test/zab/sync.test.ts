import t from 'tap';
import { makeZxid as z } from '../../zab/zxid.js';
import { TestEnsemble } from './test-ensemble.js';

function records(...zxids: number[]): Array<{ zxid: number; payload: string }> {
  return zxids.map((zxid) => ({ zxid, payload: `p${zxid}` }));
}

/** Elects a leader among the connected nodes (the lagging one is cut off), commits `count` writes. */
function commitWhileIsolated(ensemble: TestEnsemble, count: number): number {
  const leader = ensemble.electLeader();
  for (let i = 0; i < count; i++) ensemble.propose(leader, `w${i}`);
  return leader;
}

function rejoin(ensemble: TestEnsemble, id: number, leader: number): void {
  ensemble.heal();
  ensemble.tickUntil(`node ${id} synced`, () => {
    const s = ensemble.engine(id).status();
    return s.established && s.leader === leader && s.appliedZxid === ensemble.engine(leader).status().commitZxid;
  });
}

t.test('DIFF: a follower that missed proposals gets exactly the missing ones', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3], { isolated: [1] });
  const leader = commitWhileIsolated(ensemble, 5);
  t.same(ensemble.node(1).applied, [], 'nothing reached the isolated node');
  rejoin(ensemble, 1, leader);
  t.equal(ensemble.node(1).syncModes.at(-1), 'DIFF');
  t.same(ensemble.node(1).applied, ensemble.node(leader).applied);
  t.same(ensemble.node(1).applied, ['w0', 'w1', 'w2', 'w3', 'w4']);
});

t.test('TRUNC: a follower with an uncommitted tail drops it and takes the leader\'s history', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3], {
    isolated: [3],
    disks: {
      1: { currentEpoch: 1, records: records(z(1, 1), z(1, 2)) },
      2: { currentEpoch: 1, records: records(z(1, 1), z(1, 2)) },
      3: { currentEpoch: 1, records: records(z(1, 1), z(1, 2), z(1, 3), z(1, 4)) },
    },
  });
  const leader = commitWhileIsolated(ensemble, 2);
  rejoin(ensemble, 3, leader);
  t.equal(ensemble.node(3).syncModes.at(-1), 'TRUNC');
  t.same(ensemble.node(3).disk.records.map((r) => r.zxid).slice(0, 3), [z(1, 1), z(1, 2), ensemble.node(leader).appliedZxids[2]],
    'the tail (1,3), (1,4) is gone from the disk, replaced by the new epoch');
  t.same(ensemble.node(3).applied, ensemble.node(leader).applied);
  t.same(ensemble.node(3).applied, [`p${z(1, 1)}`, `p${z(1, 2)}`, 'w0', 'w1']);
});

t.test('SNAP: a follower behind the leader\'s log window gets a state snapshot, then the rest', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3], { isolated: [2], logWindowRecords: 2 });
  const leader = commitWhileIsolated(ensemble, 10);
  rejoin(ensemble, 2, leader);
  t.equal(ensemble.node(2).syncModes.at(-1), 'SNAP');
  t.same(ensemble.node(2).applied, ensemble.node(leader).applied);
  t.equal(ensemble.node(2).applied.length, 10);
  t.equal(ensemble.node(2).disk.snapshot.zxid, ensemble.node(leader).appliedZxids.at(-1), 'the snapshot was made durable');
  ensemble.propose(leader, 'after');
  t.equal(ensemble.node(2).applied.at(-1), 'after', 'it follows normally after the SNAP');
});

t.test('a restarted follower syncs from what its disk kept', async (t) => {
  const ensemble = new TestEnsemble([1, 2, 3]);
  const leader = ensemble.electLeader();
  const follower = [1, 2, 3].find((id) => id !== leader)!;
  ensemble.propose(leader, 'a');
  ensemble.crash(follower);
  ensemble.propose(leader, 'b');
  ensemble.restart(follower);
  ensemble.tickUntil('restarted follower caught up', () => ensemble.node(follower).applied.includes('b'));
  t.same(ensemble.node(follower).applied.slice(-2), ['a', 'b']);
});
