import t from 'tap';
import { epochOf, counterOf, makeZxid, nextZxid, epochOwner, nextOwnedEpoch, MAX_EPOCH } from '../../zab/zxid.js';

t.test('a zxid packs epoch and counter into one ordered number', async (t) => {
  const zxid = makeZxid(3, 7);
  t.equal(zxid, 3 * 2 ** 32 + 7);
  t.equal(epochOf(zxid), 3);
  t.equal(counterOf(zxid), 7);
  t.ok(makeZxid(2, 2 ** 32 - 1) < makeZxid(3, 0), 'a later epoch sorts after every counter of an earlier one');
});

t.test('epochs at or above 2^21 and counters at or above 2^32 are refused', async (t) => {
  t.throws(() => makeZxid(MAX_EPOCH + 1, 0), { code: 'INTERNAL' });
  t.throws(() => makeZxid(1, 2 ** 32), { code: 'INTERNAL' });
  t.equal(epochOf(makeZxid(MAX_EPOCH, 2 ** 32 - 1)), MAX_EPOCH, 'the largest zxid is still exact');
});

t.test('the next zxid continues the counter inside an epoch and restarts at 1 in a new one', async (t) => {
  t.equal(nextZxid(makeZxid(2, 5), 2), makeZxid(2, 6));
  t.equal(nextZxid(makeZxid(2, 5), 3), makeZxid(3, 1));
  t.equal(nextZxid(0, 1), makeZxid(1, 1));
  t.throws(() => nextZxid(makeZxid(4, 1), 3), { code: 'INTERNAL' });
});

t.test('each epoch has exactly one owner, and a leader picks the next epoch it owns', async (t) => {
  const members = [10, 20, 30];
  t.same([0, 1, 2, 3, 4, 5].map((e) => epochOwner(e, members)), [10, 20, 30, 10, 20, 30]);
  t.equal(nextOwnedEpoch(0, 10, members), 3);
  t.equal(nextOwnedEpoch(0, 20, members), 1);
  t.equal(nextOwnedEpoch(4, 30, members), 5);
  t.equal(nextOwnedEpoch(5, 30, members), 8);
  for (let after = 0; after < 20; after++) {
    for (const id of members) {
      const epoch = nextOwnedEpoch(after, id, members);
      t.ok(epoch > after && epoch <= after + 3 && epochOwner(epoch, members) === id, `after ${after} for ${id}: ${epoch}`);
    }
  }
});
