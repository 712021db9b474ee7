/** `shardkv ring`: the ring's version and groups as the router sees it. */
import { printJson, type DataCommandSpec } from './router-flags.js';

export const ringCommand: DataCommandSpec = {
  name: 'ring',
  summary: 'show the hash ring: version, groups, token counts and shares',
  arguments: '',
  flags: [],
  minArgs: 0,
  maxArgs: 0,
  async run({ client, json, io }) {
    const ring = await client.ring();
    if (json) {
      printJson(io, ring);
      return;
    }
    io.stdout.write(`ring version ${ring.version}, ${ring.vnodesPerGroup} tokens per group\n`);
    const rows = [['group', 'state', 'tokens', 'share'], ...ring.groups.map((g) => [g.id, g.state, String(g.tokenCount), `${(g.share * 100).toFixed(1)}%`])];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    for (const row of rows) io.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`);
  },
};
