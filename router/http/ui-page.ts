/**
 * The ring page (GET /ui): one self-contained HTML document, inline CSS and JS, no external
 * assets. It starts from the state embedded by the server, then polls GET /v1/ring (and
 * GET /v1/rebalance when the router has one) every second and redraws: the ring as a circle of
 * vnode arcs coloured by group (SVG), a legend with each group's share, and the moves of a
 * running rebalance (an inner ring of the ranges in flight, and a progress bar per transfer).
 *
 * A token owns the hash range (previous token, token] (ring/ring.ts), so token i's arc runs
 * from token i-1 to token i, clockwise from the top; angles come from the top 52 bits.
 */
import type { RingView } from './backend.js';

export interface RingPageState {
  ring: RingView;
  /** GET /v1/rebalance's answer, or null. */
  rebalance: unknown;
  /** Whether the page polls /v1/rebalance (only when the router serves it). */
  pollRebalance: boolean;
  poll_ms?: number;
}

/** JSON inside a <script> element: `<` escaped, so no value can close the element. */
function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
  :root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { margin: 0; background: #f7f7f9; color: #1d1d24; }
  header { padding: 14px 24px; background: #22252e; color: #fff; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  header .meta { font-size: 13px; opacity: 0.75; }
  main { display: flex; flex-wrap: wrap; gap: 24px; padding: 24px; }
  #ring { width: 440px; height: 440px; background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,0.12); }
  #ring .vnode { fill: none; stroke-width: 46; }
  #ring .move { fill: none; stroke-width: 14; }
  #ring .centre { font-size: 15px; text-anchor: middle; fill: #1d1d24; }
  #ring .centre-sub { font-size: 12px; text-anchor: middle; fill: #666; }
  aside { min-width: 300px; flex: 1; max-width: 560px; }
  section { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,0.12); padding: 14px 18px; margin-bottom: 16px; }
  h2 { font-size: 14px; text-transform: uppercase; letter-spacing: 0.04em; color: #555; margin: 0 0 10px; }
  #legend { list-style: none; margin: 0; padding: 0; }
  #legend li { display: flex; align-items: center; gap: 10px; padding: 5px 0; font-size: 14px; }
  .swatch { width: 18px; height: 18px; border-radius: 4px; flex: none; }
  .group { font-weight: 600; min-width: 48px; }
  .share { font-variant-numeric: tabular-nums; min-width: 56px; text-align: right; }
  .note { color: #666; font-size: 12px; }
  .transfer { margin: 8px 0; font-size: 13px; }
  .bar { height: 8px; background: #e4e4ea; border-radius: 4px; overflow: hidden; margin-top: 4px; }
  .bar > div { height: 100%; }
  #status { font-size: 12px; color: #666; }
  #status.error { color: #b00020; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
  var CX = 220, CY = 220, R_RING = 170, R_MOVES = 128;
  var state = JSON.parse(document.getElementById('initial-state').textContent);
  var lastDrawn = '';

  function colourOf(groupIds, id) {
    var index = groupIds.indexOf(id);
    if (index < 0) return '#999999';
    if (index < PALETTE.length) return PALETTE[index];
    return 'hsl(' + Math.round((index * 137.508) % 360) + ', 62%, 48%)';
  }
  function fraction(hex) {
    // top 52 bits of the 64-bit token: exact enough for a picture, and a safe integer
    return parseInt(hex.slice(0, 13), 16) / Math.pow(2, 52);
  }
  function point(f, r) {
    var angle = 2 * Math.PI * f - Math.PI / 2;
    return (CX + r * Math.cos(angle)).toFixed(2) + ' ' + (CY + r * Math.sin(angle)).toFixed(2);
  }
  function arcPath(from, to, r) {
    var span = to - from;
    if (span <= 0) span += 1;
    if (span >= 0.999999) {
      return 'M ' + point(from, r) + ' A ' + r + ' ' + r + ' 0 1 1 ' + point(from + 0.5, r) + ' A ' + r + ' ' + r + ' 0 1 1 ' + point(from, r);
    }
    return 'M ' + point(from, r) + ' A ' + r + ' ' + r + ' 0 ' + (span > 0.5 ? 1 : 0) + ' 1 ' + point(to, r);
  }
  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG_NS, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    parent.appendChild(node);
    return node;
  }
  function html(tag, className, text, parent) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }
  function pct(f) { return (100 * f).toFixed(1) + '%'; }
  function activePlan(rebalance) {
    return rebalance && rebalance.plan ? rebalance.plan : null;
  }
  function transferFraction(t) {
    if (t.state === 'fenced' || t.state === 'committed' || t.state === 'dropped') return 1;
    if (t.keysTotal > 0) return Math.min(1, t.keysCopied / t.keysTotal);
    return t.state === 'pending' ? 0 : 0.5;
  }

  function drawRing(ring, plan, groupIds) {
    var svg = document.getElementById('ring');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var tokens = ring.tokens;
    for (var i = 0; i < tokens.length; i++) {
      var prev = tokens[(i + tokens.length - 1) % tokens.length];
      var arc = el('path', {
        'class': 'vnode', d: arcPath(fraction(prev.token), fraction(tokens[i].token), R_RING),
        stroke: colourOf(groupIds, tokens[i].group), 'data-group': tokens[i].group, 'data-token': tokens[i].token,
      }, svg);
      el('title', {}, arc).textContent = tokens[i].group + ' (' + prev.token + ', ' + tokens[i].token + ']';
    }
    if (plan && plan.state !== 'done' && plan.state !== 'failed') {
      plan.transfers.forEach(function (t) {
        if (t.state === 'dropped') return;
        t.ranges.forEach(function (range) {
          el('path', {
            'class': 'move', d: arcPath(fraction(range[0]), fraction(range[1]), R_MOVES), stroke: colourOf(groupIds, t.to),
            'stroke-opacity': String(0.35 + 0.65 * transferFraction(t)), 'data-from': t.from, 'data-to': t.to,
          }, svg);
        });
      });
    }
    el('text', { 'class': 'centre', x: CX, y: CY - 4 }, svg).textContent = 'ring v' + ring.version;
    el('text', { 'class': 'centre-sub', x: CX, y: CY + 16 }, svg).textContent = tokens.length + ' vnodes, ' + ring.groups.length + ' groups';
  }

  function drawLegend(ring, groupIds) {
    var legend = document.getElementById('legend');
    legend.textContent = '';
    ring.groups.forEach(function (g) {
      var li = html('li', '', undefined, legend);
      li.setAttribute('data-group', g.id);
      var swatch = html('span', 'swatch', undefined, li);
      swatch.style.background = colourOf(groupIds, g.id);
      html('span', 'group', g.id, li);
      html('span', 'share', pct(g.share), li).setAttribute('data-share', String(g.share));
      html('span', 'note', g.tokenCount + ' vnodes' + (g.state === 'active' ? '' : ', ' + g.state), li);
    });
  }

  function drawRebalance(rebalance, groupIds) {
    var box = document.getElementById('rebalance');
    box.textContent = '';
    var plan = activePlan(rebalance);
    if (!plan) {
      html('p', 'note', state.pollRebalance ? 'No rebalance.' : 'This router does not report rebalancing.', box);
      return;
    }
    var summary = rebalance.summary || {};
    html('p', '', plan.action + ' ' + plan.group + ': ring v' + plan.fromRingVersion + ' \\u2192 v' + plan.toRingVersion +
      ', ' + plan.state + (summary.fraction !== undefined ? ', ' + pct(summary.fraction) : '') +
      (summary.eta_s ? ', about ' + Math.ceil(summary.eta_s) + ' s left' : ''), box);
    if (plan.error) html('p', 'note', plan.error, box);
    plan.transfers.forEach(function (t) {
      var row = html('div', 'transfer', undefined, box);
      row.setAttribute('data-transfer', t.id);
      html('div', '', t.from + ' \\u2192 ' + t.to + ': ' + t.state + ', ' + t.keysCopied + '/' + t.keysTotal + ' keys, ' + pct(t.share) + ' of the ring', row);
      var fill = html('div', '', undefined, html('div', 'bar', undefined, row));
      fill.style.width = pct(transferFraction(t));
      fill.style.background = colourOf(groupIds, t.to);
    });
  }

  function draw() {
    var key = JSON.stringify([state.ring, state.rebalance]);
    if (key === lastDrawn) return;
    lastDrawn = key;
    var plan = activePlan(state.rebalance);
    // colours by the sorted ids of the ring's groups and of the plan's target group, stable across redraws
    var ids = state.ring.groups.map(function (g) { return g.id; });
    if (plan && ids.indexOf(plan.group) < 0) ids.push(plan.group);
    ids.sort();
    drawRing(state.ring, plan, ids);
    drawLegend(state.ring, ids);
    drawRebalance(state.rebalance, ids);
    document.getElementById('version').textContent = 'ring v' + state.ring.version + ', ' + state.ring.vnodesPerGroup + ' vnodes per group';
  }

  function getJson(url) {
    return fetch(url, { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error(url + ' answered ' + r.status);
      return r.json();
    });
  }
  function poll() {
    var pending = [getJson('/v1/ring')];
    if (state.pollRebalance) pending.push(getJson('/v1/rebalance'));
    Promise.all(pending).then(function (answers) {
      state.ring = answers[0];
      if (state.pollRebalance) state.rebalance = answers[1];
      draw();
      var status = document.getElementById('status');
      status.className = '';
      status.textContent = 'updated ' + new Date().toLocaleTimeString();
    }).catch(function (err) {
      var status = document.getElementById('status');
      status.className = 'error';
      status.textContent = String(err && err.message || err);
    }).then(function () { setTimeout(poll, state.poll_ms); });
  }
  draw();
  document.body.setAttribute('data-ready', '1');
  setTimeout(poll, state.poll_ms);
})();
`;

export function ringPageHtml(state: RingPageState): string {
  const initial = { ring: state.ring, rebalance: state.rebalance, pollRebalance: state.pollRebalance, poll_ms: state.poll_ms ?? 1000 };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shardkv ring</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>shardkv ring</h1><span class="meta" id="version"></span><span class="meta" id="status"></span></header>
<main>
<svg id="ring" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 440 440" role="img" aria-label="the hash ring, one arc per vnode"></svg>
<aside>
<section><h2>Groups</h2><ul id="legend"></ul></section>
<section><h2>Rebalance</h2><div id="rebalance"></div></section>
</aside>
</main>
<script id="initial-state" type="application/json">${embedJson(initial)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
