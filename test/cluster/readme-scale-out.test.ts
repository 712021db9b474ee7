// The README's "Scale out locally without Docker" walk-through, command for command, as a user
// runs it: `shardkv up --spare-groups 1` (separate processes over a real nats-server), keys
// written through the router, `group add g3 --follow`, `rebalance status`, `group remove g2
// --follow`, every key read back, `down --purge`.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { ShardkvClient } from '../../client/index.js';
import { freePort } from '../support/nats-server.js';
import { makeTempDir } from '../support/tmpdir.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');
const run = promisify(execFile);

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function shardkv(args: string[], env: Record<string, string>): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

t.test('up with a spare group, add it, watch the rebalance, remove another, every key stays readable', async (t) => {
  const temp = makeTempDir('shardkv-readme-');
  const stateDir = join(temp.dir, 'state');
  const env = {
    SHARDKV_STATE_DIR: stateDir,
    SHARDKV_PORT: String(await freePort()),
    SHARDKV_NATS_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  const router = `http://127.0.0.1:${env.SHARDKV_PORT}`;
  Object.assign(env, { SHARDKV_ROUTER: router });
  t.teardown(async () => {
    // down stops every process by the pids up recorded, also when an assertion failed.
    if (existsSync(stateDir)) await shardkv(['down', '--purge'], env);
    temp.cleanup();
  });

  const began_ms = Date.now();
  const elapsed = (): string => `${((Date.now() - began_ms) / 1000).toFixed(1)} s`;
  const up = await shardkv(['up', '--spare-groups', '1'], env);
  t.equal(up.code, 0, `up: ${up.stderr}`);
  t.comment(`up after ${elapsed()}`);

  const keys = Array.from({ length: 120 }, (_, i) => `/readme/d${i % 12}/k${i}`);
  const client = new ShardkvClient({ url: router });
  for (const key of keys) await client.create(key, `v-${key}`);
  t.comment(`${keys.length} keys written after ${elapsed()}`);

  const before = await shardkv(['group', 'list', '--json'], env);
  const listed = JSON.parse(before.stdout) as Array<{ id: string; state: string }>;
  t.same(listed.map((group) => [group.id, group.state]), [['g1', 'active'], ['g2', 'active'], ['g3', 'spare']], 'g3 runs outside the ring');

  const add = await shardkv(['group', 'add', 'g3', '--follow'], env);
  t.equal(add.code, 0, `group add: ${add.stderr}`);
  t.comment(`g3 added after ${elapsed()}`);
  t.match(add.stdout, /overall/, 'the follow output shows the overall progress');
  t.match(add.stdout, /done/, 'and ends when the rebalance is done');

  const status = await shardkv(['rebalance', 'status', '--json'], env);
  t.equal(status.code, 0);
  const plan = (JSON.parse(status.stdout) as { plan: { state: string; transfers: Array<{ to: string; keysCopied: number }> } }).plan;
  t.equal(plan.state, 'done');
  t.ok(plan.transfers.every((transfer) => transfer.to === 'g3'), 'every move of the add goes to g3');
  t.ok(plan.transfers.reduce((sum, transfer) => sum + transfer.keysCopied, 0) > 0, 'keys moved to g3');

  const remove = await shardkv(['group', 'remove', 'g2', '--follow'], env);
  t.equal(remove.code, 0, `group remove: ${remove.stderr}`);
  t.comment(`g2 removed after ${elapsed()}`);

  const after = JSON.parse((await shardkv(['group', 'list', '--json'], env)).stdout) as Array<{ id: string; state: string }>;
  t.same(after.map((group) => [group.id, group.state]), [['g1', 'active'], ['g2', 'spare'], ['g3', 'active']], 'g2 drained and left the ring');

  let readable = 0;
  for (const key of keys) {
    const got = await client.get(key);
    if (new TextDecoder().decode(got.data) === `v-${key}`) readable += 1;
  }
  t.equal(readable, keys.length, 'every key reads back with its value');
  const one = await shardkv(['get', keys[7]!], env);
  t.equal(one.stdout, `v-${keys[7]!}\n`, 'and through the CLI');

  const down = await shardkv(['down', '--purge'], env);
  t.equal(down.code, 0, `down: ${down.stderr}`);
  t.notOk(existsSync(stateDir), 'down --purge removed the state directory');
});
