import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Ring, RingHasher } from '../../ring/index.js';
import type { RingView } from '../../router/http/backend.js';
import { ringView } from '../../router/http/ring-view.js';
import { registerUiRoutes } from '../../router/http/ui-routes.js';
import { makePlan, summarise } from '../../router/rebalance/rebalance-plan.js';
import { makeTempDir } from '../support/tmpdir.js';
import { launchChromium, type Page } from './headless-chromium.js';
import { countPixels, decodePng } from './png-pixels.js';

interface LegendRow { group: string; share: string; colour: string }

const hasher = await RingHasher.create();
const threeGroups = Ring.empty(hasher, { vnodesPerGroup: 32 }).withGroupAdded('g1').withGroupAdded('g2').withGroupAdded('g3');

/** A fastify app like the router's: /v1/ring (and /v1/rebalance) from mutable sources, /ui from the plugin. */
async function serve(sources: { view: RingView; rebalance?: unknown }): Promise<string> {
  const app = Fastify();
  app.get('/v1/ring', async () => sources.view);
  const rebalance = sources.rebalance === undefined ? undefined : async () => sources.rebalance;
  if (rebalance !== undefined) app.get('/v1/rebalance', rebalance);
  await registerUiRoutes(app, { ring: async () => sources.view, ...(rebalance === undefined ? {} : { rebalance }), poll_ms: 200 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

const chromium = await launchChromium();
t.teardown(() => chromium.close());

async function openUi(base: string): Promise<Page> {
  const page = await chromium.newPage();
  t.teardown(() => page.close());
  await page.goto(`${base}/ui`);
  await page.waitForFunction('document.body.dataset.ready === "1"', undefined, { timeout: 10_000 });
  return page;
}

const legendRows = (page: Page): Promise<LegendRow[]> => page.evaluate<LegendRow[]>(`Array.from(document.querySelectorAll('#legend li')).map((li) => ({
  group: li.dataset.group, share: li.querySelector('.share').textContent, colour: getComputedStyle(li.querySelector('.swatch')).backgroundColor }))`);

const percent = (share: number): string => `${(100 * share).toFixed(1)}%`;

function rgbOf(css: string): [number, number, number] {
  const match = /^rgb\((\d+), (\d+), (\d+)\)$/.exec(css);
  if (match === null) throw new Error(`not an rgb() colour: ${css}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

t.test('the legend shows every group of GET /v1/ring with its share', async (t) => {
  const base = await serve({ view: ringView(threeGroups) });
  const served = (await (await fetch(`${base}/v1/ring`)).json()) as RingView;
  const page = await openUi(base);
  const rows = await legendRows(page);
  t.same(rows.map((row) => row.group), served.groups.map((group) => group.id));
  t.same(rows.map((row) => row.share), served.groups.map((group) => percent(group.share)));
  t.equal(new Set(rows.map((row) => row.colour)).size, rows.length, 'each group has its own colour');
});

t.test('the ring has one arc per token, each in its group\'s legend colour', async (t) => {
  const view = ringView(threeGroups);
  const page = await openUi(await serve({ view }));
  const arcs = await page.evaluate<Array<{ token: string; group: string; stroke: string }>>(`Array.from(document.querySelectorAll('#ring path.vnode')).map((p) => ({
    token: p.dataset.token, group: p.dataset.group, stroke: getComputedStyle(p).stroke }))`);
  t.equal(arcs.length, view.tokens.length);
  t.same(arcs.map(({ token, group }) => ({ token, group })), view.tokens);
  const colourOf = new Map((await legendRows(page)).map((row) => [row.group, row.colour]));
  t.ok(arcs.every((arc) => arc.stroke === colourOf.get(arc.group)), 'every arc is stroked in its group\'s legend colour');
});

t.test('a screenshot is a PNG that shows each group\'s colour', async (t) => {
  const page = await openUi(await serve({ view: ringView(threeGroups) }));
  const temp = makeTempDir('ui-screenshot');
  t.teardown(temp.cleanup);
  const file = join(temp.dir, 'ring.png');
  await page.screenshot({ path: file });
  if (process.env.SHARDKV_UI_SCREENSHOT !== undefined) await page.screenshot({ path: process.env.SHARDKV_UI_SCREENSHOT });
  const png = decodePng(readFileSync(file));
  t.ok(png.width >= 800 && png.height >= 400, `screenshot is ${png.width}x${png.height}`);
  for (const row of await legendRows(page)) {
    // the legend swatch alone is 18x18 px; the ring's arcs add thousands more
    t.ok(countPixels(png, rgbOf(row.colour)) > 2000, `${row.group}'s colour ${row.colour} covers the ring's arcs`);
  }
});

t.test('the page follows the ring: a group added after loading appears within a few polls', async (t) => {
  const sources = { view: ringView(threeGroups) };
  const page = await openUi(await serve(sources));
  const fourGroups = threeGroups.withGroupAdded('g4');
  sources.view = ringView(fourGroups);
  await page.waitForFunction(`document.querySelectorAll('#ring path.vnode').length === ${fourGroups.entries().length}`, undefined, { timeout: 10_000 });
  t.same((await legendRows(page)).map((row) => row.share), sources.view.groups.map((group) => percent(group.share)));
});

t.test('a running rebalance shows each transfer and its ranges in flight', async (t) => {
  const now_ms = Date.now();
  const plan = makePlan(threeGroups, 'add', 'g4', now_ms);
  const [first] = plan.transfers;
  if (first === undefined) throw new Error('adding a group moves no range');
  Object.assign(first, { state: 'copying', keysTotal: 400, keysCopied: 100 });
  const page = await openUi(await serve({ view: ringView(threeGroups), rebalance: { plan, summary: summarise(plan, now_ms) } }));
  const shown = await page.evaluate<Array<{ id: string; text: string }>>(`Array.from(document.querySelectorAll('#rebalance .transfer')).map((row) => ({
    id: row.dataset.transfer, text: row.textContent }))`);
  t.same(shown.map((row) => row.id), plan.transfers.map((transfer) => transfer.id));
  t.match(shown[0]?.text ?? '', `${first.from} \u2192 ${first.to}: copying, 100/400 keys`);
  const moves = await page.evaluate<number>(`document.querySelectorAll('#ring path.move').length`);
  t.equal(moves, plan.transfers.reduce((sum, transfer) => sum + transfer.ranges.length, 0));
});
