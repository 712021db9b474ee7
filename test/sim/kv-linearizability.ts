/** The simulators' linearizability check of their client history (the kv model). */
import { checkLinearizable, type Operation } from '../lincheck/checker.js';
import { kvModel, type KvInput, type KvOutput } from '../lincheck/kv-model.js';

export interface KvLinearizability {
  lincheck: 'ok' | 'unknown' | 'failed';
  /** Set when the history is not linearizable: the failure to report. */
  failure?: string;
}

export function kvLinearizability(history: Operation<KvInput, KvOutput>[], timeout_ms: number): KvLinearizability {
  const verdict = checkLinearizable(kvModel, history, { timeout_ms });
  if (verdict.ok === true) return { lincheck: 'ok' };
  if (verdict.ok === 'unknown') return { lincheck: 'unknown' };
  return { lincheck: 'failed', failure: `history not linearizable: ${verdict.message}` };
}
