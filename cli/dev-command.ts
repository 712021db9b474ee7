import { DEFAULT_VNODES_PER_GROUP, Ring, RingHasher } from '../ring/index.js';
import type { Command } from './command.js';
import { UsageError } from './flags.js';

/**
 * `shardkv dev`: for now, the layout of a demo ring of --groups shard groups (the embedded
 * cluster of meta ensemble + shard groups + router comes with the shard/router issue).
 */
export const devCommand: Command = {
  name: 'dev',
  summary: 'show the ring layout of a demo cluster (embedded cluster: coming with shard/ and router/)',
  usage: 'shardkv dev [--groups N] [--vnodes V] [--keys K]',
  flags: [
    { name: 'groups', kind: 'number', default: 2, description: 'shard groups in the demo ring' },
    { name: 'vnodes', kind: 'number', default: DEFAULT_VNODES_PER_GROUP, description: 'virtual nodes per group' },
    { name: 'keys', kind: 'number', default: 100_000, description: 'sample placement keys to count per group' },
  ],
  async run(flags) {
    const groups = flags.groups as number;
    const vnodes = flags.vnodes as number;
    const keys = flags.keys as number;
    if (!Number.isInteger(groups) || groups < 1 || groups > 64) throw new UsageError('--groups must be an integer from 1 to 64');
    if (!Number.isInteger(keys) || keys < 0 || keys > 10_000_000) throw new UsageError('--keys must be an integer from 0 to 10 000 000');
    const hasher = await RingHasher.create();
    let ring = Ring.empty(hasher, { vnodesPerGroup: vnodes });
    for (let i = 1; i <= groups; i++) ring = ring.withGroupAdded(`g${i}`);
    const counts = new Map<string, number>();
    for (let i = 0; i < keys; i++) {
      const owner = ring.ownerOf(`/demo/dir-${i}`);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    const lines = [
      `shardkv demo ring: version ${ring.version}, ${ring.groupCount} groups x ${vnodes} virtual nodes`,
      '',
      'group  state   tokens  share of hash space  sampled keys',
    ];
    for (const group of ring.groups()) {
      const sampled = keys === 0 ? '-' : `${(((counts.get(group.id) ?? 0) / keys) * 100).toFixed(2)} %`;
      lines.push(`${group.id.padEnd(6)} ${group.state.padEnd(7)} ${String(group.tokenCount).padStart(6)}  ${`${(group.share * 100).toFixed(2)} %`.padStart(19)}  ${sampled.padStart(12)}`);
    }
    lines.push('', 'The meta ensemble runs today: see the README, "Meta ensemble by hand".');
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
