/**
 * Random key-value histories for testing the checker: linearizable by construction, and
 * mutations of them that cannot be linearized.
 *
 * Construction: operations take effect one at a time at instants 0, SLOT, 2*SLOT, ... against
 * the sequential model, which gives each its output; each then gets a call before and a return
 * after its instant, at random distances, so several overlap. A client runs one operation at a
 * time. A pending operation (its client crashed) either took effect at its instant or never.
 */
import { isPending } from './checker.js';
import { applyKv, kv, type KvInput, type KvOperation, type KvState } from './kv-model.js';
import type { SeededRandom } from './seeded-random.js';

export interface RandomKvHistoryOptions {
  operations: number;
  keys: number;
  /** Clients issuing operations at once. */
  concurrency: number;
  /** Share of operations that never return. Default 0.02. */
  pendingRate?: number;
}

const SLOT = 10;

export function randomKvHistory(random: SeededRandom, options: RandomKvHistoryOptions): KvOperation[] {
  const maxDuration = SLOT * options.concurrency;
  const pendingRate = options.pendingRate ?? 0.02;
  const clients = Array.from({ length: options.concurrency }, (_, id) => ({ id, busyUntil: -Infinity }));
  let nextClientId = options.concurrency;
  let state: KvState = {};
  const history: KvOperation[] = [];
  // An idle client always turns up within maxDuration / SLOT slots, so this loop is bounded.
  for (let slot = 0; history.length < options.operations; slot++) {
    const instant = slot * SLOT;
    const idle = clients.filter((client) => client.busyUntil < instant);
    if (idle.length === 0) continue;
    const client = random.pick(idle);
    const input = randomInput(random, state, `k${random.int(options.keys)}`, `v${history.length}`);
    const call = Math.max(client.busyUntil + 1, instant - random.int(maxDuration));
    if (random.chance(pendingRate)) {
      if (random.chance(0.5)) state = applyKv(state, input).next;
      history.push({ clientId: client.id, input, call });
      // The crashed client is replaced by a new one.
      client.id = nextClientId++;
      client.busyUntil = instant;
      continue;
    }
    const { output, next } = applyKv(state, input);
    state = next;
    const ret = instant + random.int(maxDuration);
    history.push({ clientId: client.id, input, call, return: ret, output });
    client.busyUntil = ret;
  }
  return history;
}

function randomInput(random: SeededRandom, state: KvState, key: string, value: string): KvInput {
  const roll = random.next();
  if (roll < 0.4) return kv.get(key);
  if (roll < 0.75) return kv.put(key, value);
  // Mostly the current version (the cas succeeds), sometimes a neighbour (BAD_VERSION).
  const version = (state[key]?.version ?? 0) + random.pick([0, 0, 0, -1, 1]);
  return kv.cas(key, Math.max(0, version), value);
}

export type KvMutation = 'never-written' | 'future' | 'stale';

/**
 * Changes the value one completed get saw so that no linearization exists (values are unique
 * per write, which makes each of these impossible):
 * - never-written: a value no operation wrote;
 * - future: a value written only by an operation called after the get returned;
 * - stale: the value of a write W when another write to the key ran entirely between W and the get.
 * Undefined when the history has no completed get.
 */
export function mutateKvHistory(
  random: SeededRandom,
  history: readonly KvOperation[],
): { history: KvOperation[]; mutation: KvMutation; index: number } | undefined {
  const reads = history.flatMap((op, index) => (op.input.op === 'get' && !isPending(op) ? [index] : []));
  if (reads.length === 0) return undefined;
  const index = random.pick(reads);
  const read = history[index]!;
  const writesOfKey = history.filter((op) => op.input.key === read.input.key && op.input.op !== 'get');
  const completedWrites = writesOfKey.filter((op) => op.output?.type === 'ok' && !isPending(op));
  const candidates: Array<[KvMutation, string]> = [['never-written', `never-written-${index}`]];
  for (const write of writesOfKey) {
    if (write.call > read.return! && 'value' in write.input) candidates.push(['future', write.input.value]);
  }
  for (const older of completedWrites) {
    const overwritten = completedWrites.some((newer) => older.return! < newer.call && newer.return! < read.call);
    if (overwritten && 'value' in older.input) candidates.push(['stale', older.input.value]);
  }
  const [mutation, value] = random.pick(candidates);
  const mutated = history.map((op, i) => (i === index ? { ...op, output: kv.value(value) } : op));
  return { history: mutated, mutation, index };
}
