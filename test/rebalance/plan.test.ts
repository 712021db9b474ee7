// The rebalance plan (pure): transfers from the ring diff, progress summary, and its CLI rendering.
import t from 'tap';
import { renderRebalance, progressBar } from '../../cli/admin-commands.js';
import { diffRings, rangeContains, Ring, RingHasher } from '../../ring/index.js';
import { makePlan, summarise } from '../../router/rebalance/rebalance-plan.js';
import { parseRanges } from '../../znode/range-transfer.js';

const hasher = await RingHasher.create();
const ring = Ring.empty(hasher, { vnodesPerGroup: 16 }).withGroupAdded('g1').withGroupAdded('g2');

t.test('adding a group plans one transfer per source group, covering exactly the ring diff', async (t) => {
  const plan = makePlan(ring, 'add', 'g3', 1000);
  t.equal(plan.toRingVersion, ring.version + 1);
  t.same(plan.transfers.map((tr) => `${tr.from}>${tr.to}`).sort(), ['g1>g3', 'g2>g3']);
  const next = Ring.fromJSON(plan.targetRing, hasher);
  const moves = diffRings(ring, next);
  t.equal(plan.transfers.reduce((n, tr) => n + tr.ranges.length, 0), moves.length);
  let wrong = 0;
  for (let i = 0; i < 2000; i++) {
    const hash = hasher.hash(`/key/${i}`);
    const planned = plan.transfers.find((tr) => parseRanges(tr.ranges).some((r) => rangeContains(r.start, r.end, hash)));
    const moved = ring.ownerOfHash(hash) !== next.ownerOfHash(hash);
    if ((planned !== undefined) !== moved || (planned !== undefined && planned.to !== next.ownerOfHash(hash))) wrong += 1;
  }
  t.equal(wrong, 0, 'a key is in a transfer exactly when it changes owner, and goes to its new owner');
  t.ok(Math.abs(plan.transfers.reduce((s, tr) => s + tr.share, 0) - 1 / 3) < 0.05, 'about a third of the ring moves');
});

t.test('removing the last group, adding a present one or removing an absent one is refused', async (t) => {
  t.throws(() => makePlan(Ring.empty(hasher).withGroupAdded('g1'), 'remove', 'g1', 0), { code: 'BAD_ARGUMENTS' });
  t.throws(() => makePlan(ring, 'add', 'g1', 0), { code: 'BAD_ARGUMENTS' });
  t.throws(() => makePlan(ring, 'remove', 'g9', 0), { code: 'BAD_ARGUMENTS' });
});

t.test('the summary adds up the transfers and estimates the time left', async (t) => {
  const plan = makePlan(ring, 'add', 'g3', 0);
  Object.assign(plan.transfers[0]!, { state: 'copying', keysTotal: 100, keysCopied: 50, bytesCopied: 5000 });
  Object.assign(plan.transfers[1]!, { state: 'fenced', keysTotal: 100, keysCopied: 100, bytesCopied: 10_000 });
  const summary = summarise(plan, 10_000);
  t.match(summary, { keysTotal: 200, keysCopied: 150, bytesCopied: 15_000, transfersDone: 1, fraction: 0.75 });
  t.equal(summary.rate_bytes_per_s, 1500);
  t.ok(summary.eta_s !== null && Math.abs(summary.eta_s - 10 / 3) < 0.01, `eta ${summary.eta_s}`);
});

t.test('the status text has a bar for the plan and one per transfer', async (t) => {
  const plan = makePlan(ring, 'add', 'g3', 0);
  Object.assign(plan.transfers[0]!, { state: 'copying', keysTotal: 10, keysCopied: 5 });
  const text = renderRebalance({ plan, summary: summarise(plan, 1000) });
  t.equal(text.trimEnd().split('\n').length, 2 + plan.transfers.length);
  t.match(text, /g1 -> g3|g2 -> g3/);
  t.match(text, /copying\s+5\/10 keys/);
  t.equal(progressBar(0.5, 10), '[#####-----]  50%');
  t.equal(renderRebalance({ plan: null, summary: null }), 'no rebalance has run\n');
});
