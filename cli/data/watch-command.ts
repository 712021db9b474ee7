/**
 * `shardkv watch <path>`: prints each change of a node (or of its children with --children)
 * until Ctrl-C or --count events. Watches are one-shot, so it re-arms after every event; a
 * change between an event and the re-arm is seen by the re-arm's read, not as an event.
 */
import { ShardkvClientError } from '../../client/index.js';
import { integerFlag, printJson, type DataCommandSpec } from './router-flags.js';

export const watchCommand: DataCommandSpec = {
  name: 'watch',
  summary: 'print the changes of a node (or its children) as they happen',
  arguments: '<path>',
  flags: [
    { name: 'children', description: 'watch the child list instead of the data', kind: 'boolean', default: false },
    { name: 'count', description: 'stop after this many events (default: until Ctrl-C)', kind: 'number' },
    { name: 'session-timeout-ms', description: 'timeout of the watching session', kind: 'number', default: 10_000 },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run({ client, flags, positional, json, io }) {
    const path = positional[0]!;
    const count = integerFlag(flags, 'count', 1);
    const timeout_ms = integerFlag(flags, 'session-timeout-ms', 1) ?? 10_000;
    const session = await client.session({ timeout_ms });
    const interrupt = io.interrupt();
    try {
      const events = await session.events();
      interrupt.signal.addEventListener('abort', () => events.close(), { once: true });
      const arm = async (): Promise<void> => {
        if (flags.children === true) await session.children(path, { watch: true });
        else await session.exists(path, { watch: true });
      };
      await arm();
      if (!json) io.stderr.write(`watching ${path}${flags.children === true ? ' (children)' : ''}; Ctrl-C to stop\n`);
      let seen = 0;
      for await (const event of events) {
        if (json) printJson(io, event);
        else io.stdout.write(`${event.type} ${event.path} zxid=${event.zxid}\n`);
        seen += 1;
        if (count !== undefined && seen >= count) break;
        await arm();
      }
      if (session.state === 'expired') throw new ShardkvClientError('SESSION_EXPIRED', 404, 'the watching session expired');
    } finally {
      interrupt.release();
      await session.close();
    }
  },
};
