/**
 * `shardkv compose`: prints (or writes) the docker compose file of the topology, generated
 * from cli/topology.ts like everything `shardkv up` starts.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from '../cli/command.js';
import { composeYaml } from './compose-file.js';

export const composeCommand: Command = {
  name: 'compose',
  summary: 'print the docker compose file of the topology (compose/docker-compose.yml is this output)',
  usage: 'shardkv compose [--out compose/docker-compose.yml]',
  flags: [{ name: 'out', kind: 'string', default: '', description: 'write to this file instead of stdout' }],
  async run(flags) {
    const text = composeYaml();
    const out = String(flags.out);
    if (out === '') process.stdout.write(text);
    else writeFileSync(out, text);
    return 0;
  },
};
