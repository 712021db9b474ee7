/**
 * The one load generator every system is driven by: `in_flight` workers, each issuing one
 * operation after another for a fixed time, over a fixed key space. A system plugs in as a
 * KvTarget; the generator only counts and times.
 */

/** Value size of every write (the 256-byte values). */
export const VALUE_BYTES = 256;
/** Keys written and read; each is created once in setup(). */
export const KEY_COUNT = 1000;

export type ReadConsistency = 'linearizable' | 'sequential';

/** One system under test, through its own client. Key `i` is 0 <= i < KEY_COUNT. */
export interface KvTarget {
  readonly name: string;
  /** Creates every key with a VALUE_BYTES value (a key that exists already is fine). */
  setup(): Promise<void>;
  /** Sets key i to a VALUE_BYTES value. */
  write(i: number): Promise<void>;
  /** Reads key i; undefined when the system has no such read (then the row is skipped). */
  readOp(consistency: ReadConsistency): ((i: number) => Promise<void>) | undefined;
  /** Lets the target size its connection pool for the next run. */
  prepare?(in_flight: number): void;
  close(): Promise<void>;
}

export interface LoadResult {
  ops: number;
  errors: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** The first error seen, to say why a run had errors. */
  firstError?: string;
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

/**
 * Runs `operation` with `in_flight` concurrent workers for duration_ms. Operations that throw
 * are counted as errors, not timed; a run where more than half fail is an error itself.
 */
export async function runLoad(operation: (i: number) => Promise<void>, in_flight: number, duration_ms: number): Promise<LoadResult> {
  let latencies_ms = new Float64Array(1 << 16);
  let ops = 0;
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const deadline = started + duration_ms;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const key = next % KEY_COUNT;
      next += 1;
      const t0 = performance.now();
      try {
        await operation(key);
      } catch (err) {
        errors += 1;
        firstError ??= err instanceof Error ? err.message : String(err);
        continue;
      }
      if (ops === latencies_ms.length) {
        const grown = new Float64Array(latencies_ms.length * 2);
        grown.set(latencies_ms);
        latencies_ms = grown;
      }
      latencies_ms[ops] = performance.now() - t0;
      ops += 1;
    }
  };
  await Promise.all(Array.from({ length: in_flight }, worker));
  const elapsed_s = (performance.now() - started) / 1000;
  if (errors > ops) throw new Error(`${errors} of ${errors + ops} operations failed; first: ${firstError ?? ''}`);
  const sorted = latencies_ms.subarray(0, ops).sort();
  return {
    ops, errors, ops_per_s: ops / elapsed_s, p50_ms: percentile(sorted, 0.5), p99_ms: percentile(sorted, 0.99),
    ...(firstError === undefined ? {} : { firstError }),
  };
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The value written to key i: printable ASCII, so JSON APIs carry it as UTF-8 text. */
export function valueFor(i: number): Buffer {
  const value = Buffer.alloc(VALUE_BYTES, 0x61 + (i % 26));
  value.write(String(i).padStart(8, '0'));
  return value;
}
