/**
 * The README's docker compose walk-through, driven through the published router ports by
 * scripts/compose-test.sh in two phases (the script starts the scale-out profile between them):
 *
 *   node dist/test/compose/walkthrough.js before    --routers URL,URL
 *   node dist/test/compose/walkthrough.js scale-out --routers URL,URL --group g3
 *
 * `before` waits for both routers, checks the ring's groups and writes KEY_COUNT keys through
 * the first router, reading them back through the second. `scale-out` adds the new group
 * (POST /v1/groups) when the router has the rebalancing admin API, waits for the ring to hold
 * it, and reads every key through both routers. Exit 0 when every step held.
 */
import { ShardkvClient, ShardkvClientError } from '../../client/index.js';
import { waitFor } from '../support/wait.js';

const KEY_COUNT = 200;
const ROOT = '/walkthrough';
const keyPath = (i: number): string => `${ROOT}/key-${String(i).padStart(4, '0')}`;
const keyValue = (i: number): string => `value-${i}`;

function say(line: string): void {
  process.stdout.write(`[walkthrough] ${line}\n`);
}

function argument(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
}

/** A write that may meet a leader change: retried on the transient codes, at most `attempts` times. */
async function retried<T>(what: string, action: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      const transient = err instanceof ShardkvClientError && ['NOT_LEADER', 'NO_LEADER', 'TIMEOUT', 'UNAVAILABLE', 'MOVED', 'CONNECTION_LOSS'].includes(err.code);
      if (!transient || attempt >= attempts) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function waitHealthy(clients: ShardkvClient[]): Promise<void> {
  for (const client of clients) {
    await waitFor(`${client.url}/healthz to answer ok`, async () => (await client.health()).status !== 'down', 180_000, 1000);
    say(`${client.url} is healthy`);
  }
}

async function readEverything(clients: ShardkvClient[]): Promise<void> {
  for (const client of clients) {
    for (let i = 0; i < KEY_COUNT; i++) {
      const node = await retried(`read ${keyPath(i)} via ${client.url}`, () => client.get(keyPath(i)));
      if (node.text !== keyValue(i)) throw new Error(`${keyPath(i)} via ${client.url}: expected ${keyValue(i)}, got ${String(node.text)}`);
    }
    say(`read all ${KEY_COUNT} keys back through ${client.url}`);
  }
}

async function before(clients: ShardkvClient[]): Promise<void> {
  await waitHealthy(clients);
  const groups = (await (clients[0] as ShardkvClient).groups()).map((group) => group.id).sort();
  say(`groups: ${groups.join(', ')}`);
  if (groups.join(',') !== 'g1,g2') throw new Error(`expected groups g1,g2 on the ring, got ${groups.join(',')}`);
  const writer = clients[0] as ShardkvClient;
  await retried(`create ${ROOT}`, async () => {
    try {
      await writer.create(ROOT);
    } catch (err) {
      if (!(err instanceof ShardkvClientError && err.code === 'NODE_EXISTS')) throw err;
    }
  });
  for (let i = 0; i < KEY_COUNT; i++) {
    await retried(`write ${keyPath(i)}`, async () => {
      try {
        await writer.create(keyPath(i), keyValue(i));
      } catch (err) {
        // A retried create whose first attempt landed.
        if (!(err instanceof ShardkvClientError && err.code === 'NODE_EXISTS')) throw err;
      }
    });
  }
  say(`wrote ${KEY_COUNT} keys through ${writer.url}`);
  await readEverything(clients);
}

async function scaleOut(clients: ShardkvClient[], group: string): Promise<void> {
  await waitHealthy(clients);
  const admin = clients[0] as ShardkvClient;
  // The new group's replicas register themselves once they run: until then it is not listed.
  await waitFor(`${group} to be listed as spare (running, not on the ring)`, async () => {
    const entry = (await admin.groups()).find((candidate) => candidate.id === group);
    return entry?.state === 'spare' && entry.leader !== null ? entry : undefined;
  }, 120_000, 1000);
  const response = await fetch(`${admin.url}/v1/groups`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: group }),
  });
  const answer = await response.text();
  if (response.status !== 202) throw new Error(`POST /v1/groups ${group}: ${response.status} ${answer}`);
  const plan = (JSON.parse(answer) as { plan?: { id?: string }; summary?: { state?: string } });
  say(`asked the cluster to add ${group}: plan ${String(plan.plan?.id)}, ${String(plan.summary?.state)}`);
  await waitFor(`${group} to be active on the ring`, async () => {
    const ring = await admin.ring();
    return ring.groups.some((entry) => entry.id === group && entry.state === 'active') ? ring : undefined;
  }, 180_000, 1000);
  say(`${group} is active on the ring: rebalance done`);
  const groups = (await admin.groups()).map((entry) => `${entry.id} (${entry.state}, leader ${String(entry.leader)})`);
  say(`groups: ${groups.join('; ')}`);
  await readEverything(clients);
}

async function main(argv: string[]): Promise<void> {
  const phase = argv[0];
  const routers = (argument(argv, 'routers') ?? 'http://127.0.0.1:7070').split(',');
  const clients = routers.map((url) => new ShardkvClient({ url, timeout_ms: 15_000 }));
  if (phase === 'before') await before(clients);
  else if (phase === 'scale-out') await scaleOut(clients, argument(argv, 'group') ?? 'g3');
  else throw new Error(`usage: walkthrough.js before|scale-out --routers URL[,URL] [--group g3]`);
}

// Failure unless main() finishes. The interval keeps the event loop alive: node's fetch can
// leave its promise pending with no handle when the peer closes the connection (a published
// port whose container is not listening yet), and node would then exit 0 without a word.
process.exitCode = 1;
const keepAlive = setInterval(() => undefined, 1_000);
main(process.argv.slice(2)).then(
  () => {
    say('ok');
    process.exitCode = 0;
  },
  (err: unknown) => {
    process.stderr.write(`[walkthrough] FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
).finally(() => clearInterval(keepAlive));
