/**
 * Plants a stale read in a key-value history: a read whose key had a write acknowledged before
 * the read was called is made to answer the value of the write before that one. Versions only
 * grow, so the altered history cannot be linearizable; a checker that still accepts it is
 * broken. Used to show that a check over a real cluster's history can fail.
 */
import { isPending } from './checker.js';
import type { KvOperation } from './kv-model.js';

export interface PlantedStaleRead {
  history: KvOperation[];
  /** Index in `history` of the altered read. */
  index: number;
  description: string;
}

/** The history with its last read that can be made stale altered, or undefined if none can. */
export function plantStaleRead(history: readonly KvOperation[]): PlantedStaleRead | undefined {
  // key -> version -> [value, return time] of the acknowledged writes
  const writes = new Map<string, Map<number, { value: string; returned: number }>>();
  for (const op of history) {
    if (isPending(op) || op.input.op === 'get' || op.output?.type !== 'ok' || op.output.version === undefined) continue;
    const byVersion = writes.get(op.input.key) ?? new Map<number, { value: string; returned: number }>();
    byVersion.set(op.output.version, { value: op.input.value, returned: op.return! });
    writes.set(op.input.key, byVersion);
  }
  for (let index = history.length - 1; index >= 0; index--) {
    const read = history[index]!;
    if (isPending(read) || read.input.op !== 'get' || read.output?.type !== 'value' || read.output.version === undefined) continue;
    const byVersion = writes.get(read.input.key);
    const seen = byVersion?.get(read.output.version);
    const previous = byVersion?.get(read.output.version - 1);
    if (seen === undefined || previous === undefined || seen.returned >= read.call) continue;
    const altered = [...history];
    altered[index] = { ...read, output: { type: 'value', value: previous.value, version: read.output.version - 1 } };
    const description = `get(${read.input.key}) called at ${read.call}, after version ${read.output.version} was acknowledged at ${seen.returned}, made to answer version ${read.output.version - 1}`;
    return { history: altered, index, description };
  }
  return undefined;
}
