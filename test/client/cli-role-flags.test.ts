// The router's flags as the compose file and `shardkv up` pass them (flags or SHARDKV_* variables),
// checked with --check-config: valid settings exit 0, bad ones are refused with a message (cli/main.ts
// exits 2 on a UsageError).
import t from 'tap';
import { parseFlags, UsageError } from '../../cli/flags.js';
import { routerCommand } from '../../cli/role-commands.js';

async function checkRouter(argv: string[], env: Record<string, string> = {}): Promise<number> {
  const { flags, positional } = parseFlags([...argv, '--check-config'], routerCommand.flags, env);
  return routerCommand.run(flags, positional);
}

t.test('the rebalance copy rate is a flag and an environment variable', async (t) => {
  t.equal(await checkRouter(['--rebalance-rate-mbps', '0.5']), 0);
  t.equal(await checkRouter([], { SHARDKV_REBALANCE_RATE_MBPS: '0' }), 0, '0 = unthrottled');
});

t.test('a negative or non-numeric rate is a usage error naming the flag', async (t) => {
  await t.rejects(checkRouter(['--rebalance-rate-mbps', '-1']), new UsageError('--rebalance-rate-mbps must be a number of MiB/s, 0 or more'));
  await t.rejects(checkRouter([], { SHARDKV_REBALANCE_RATE_MBPS: 'fast' }), UsageError);
});

t.test('a bad port or group id is refused before anything starts', async (t) => {
  await t.rejects(checkRouter(['--port', '70000']), UsageError);
  await t.rejects(checkRouter(['--initial-groups', 'g1,bad id']), { code: 'BAD_ARGUMENTS', message: /invalid group id "bad id"/ });
});
