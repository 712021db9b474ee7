/** Shorthands for writing key-value histories by hand in tests. */
import type { KvInput, KvOperation, KvOutput } from './kv-model.js';

export function done(clientId: number, input: KvInput, call: number, ret: number, output: KvOutput): KvOperation {
  return { clientId, input, call, return: ret, output };
}

export function pending(clientId: number, input: KvInput, call: number): KvOperation {
  return { clientId, input, call };
}
