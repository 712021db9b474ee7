import t from 'tap';
import { LogWindow } from '../../zab/log-window.js';
import { planSync } from '../../zab/sync-plan.js';
import { makeZxid as z } from '../../zab/zxid.js';

const payload = new Uint8Array();
function log(base: number, zxids: number[]): LogWindow {
  return new LogWindow(base, zxids.map((zxid) => ({ zxid, payload })));
}

t.test('a follower whose last zxid the leader has gets a DIFF from there', async (t) => {
  const leader = log(0, [z(1, 1), z(1, 2), z(2, 1)]);
  t.same(planSync(leader, { appliedZxid: z(1, 1), lastZxid: z(1, 2), epochLasts: [z(1, 2)] }), { mode: 'DIFF', from: z(1, 2) });
  t.same(planSync(leader, { appliedZxid: z(2, 1), lastZxid: z(2, 1), epochLasts: [] }), { mode: 'DIFF', from: z(2, 1) });
});

t.test('a follower with an uncommitted tail the leader lacks is truncated to the common prefix', async (t) => {
  const leader = log(0, [z(1, 1), z(1, 2), z(3, 1)]);
  t.same(planSync(leader, { appliedZxid: z(1, 1), lastZxid: z(1, 4), epochLasts: [z(1, 4)] }), { mode: 'TRUNC', from: z(1, 2) });
});

t.test('truncation stops before a foreign epoch even when the leader has later records of an older one', async (t) => {
  // The follower took (2,1) from a leader of epoch 2 that lacked (1,2); this leader has (1,2) but not (2,1).
  const leader = log(0, [z(1, 1), z(1, 2), z(3, 1)]);
  t.same(planSync(leader, { appliedZxid: 0, lastZxid: z(2, 1), epochLasts: [z(1, 1), z(2, 1)] }), { mode: 'TRUNC', from: z(1, 1) });
});

t.test('a follower whose applied point is older than the leader\'s window gets a SNAP', async (t) => {
  const leader = log(z(1, 5), [z(1, 6), z(1, 7)]);
  t.same(planSync(leader, { appliedZxid: z(1, 2), lastZxid: z(1, 3), epochLasts: [z(1, 3)] }), { mode: 'SNAP' });
});

t.test('a follower that applied something the leader lacks is an invariant violation', async (t) => {
  const leader = log(0, [z(1, 1), z(2, 1)]);
  t.throws(() => planSync(leader, { appliedZxid: z(1, 2), lastZxid: z(1, 2), epochLasts: [] }), { code: 'INTERNAL' });
});
