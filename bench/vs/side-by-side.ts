/**
 * The side-by-side run: each system started alone (so they never share the two cores), its
 * keys created, then every workload warmed up and measured `reps` times; medians per
 * (system, workload). Every system is stopped by pid before the next starts, also on failure.
 */
import { join } from 'node:path';
import { median, runLoad, type KvTarget, type LoadResult, type ReadConsistency } from './load.js';

export interface Workload {
  id: string;
  kind: 'write' | 'read';
  in_flight: number;
  consistency?: ReadConsistency;
}

export const WORKLOADS: Workload[] = [
  { id: 'write-1', kind: 'write', in_flight: 1 },
  { id: 'write-16', kind: 'write', in_flight: 16 },
  { id: 'write-64', kind: 'write', in_flight: 64 },
  { id: 'write-256', kind: 'write', in_flight: 256 },
  { id: 'read-lin-64', kind: 'read', in_flight: 64, consistency: 'linearizable' },
  { id: 'read-seq-64', kind: 'read', in_flight: 64, consistency: 'sequential' },
];

export function describeWorkload(workload: Workload): string {
  if (workload.kind === 'write') return `set 256 B, ${workload.in_flight} in flight`;
  return `get (${workload.consistency}), ${workload.in_flight} in flight`;
}

/** A system the bench can start: its name in the table and how to start and stop it. */
export interface SystemUnderTest {
  name: string;
  start(dir: string): Promise<{ target(): Promise<KvTarget>; stop(): Promise<void> }>;
}

export interface Measurement {
  system: string;
  workload: Workload;
  reps: LoadResult[];
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

export interface RunSettings {
  workloads: Workload[];
  reps: number;
  measure_ms: number;
  warmup_ms: number;
  /** Progress lines (stderr). */
  progress: (line: string) => void;
}

export async function measureSystem(system: SystemUnderTest, dir: string, settings: RunSettings): Promise<Measurement[]> {
  settings.progress(`${system.name}: starting`);
  const running = await system.start(join(dir, system.name));
  try {
    const target = await running.target();
    try {
      await target.setup();
      const byWorkload = new Map<string, LoadResult[]>();
      for (let rep = 1; rep <= settings.reps; rep += 1) {
        for (const workload of settings.workloads) {
          const operation = workload.kind === 'write' ? (i: number) => target.write(i) : target.readOp(workload.consistency ?? 'linearizable');
          if (operation === undefined) continue;
          target.prepare?.(workload.in_flight);
          await runLoad(operation, workload.in_flight, settings.warmup_ms);
          const result = await runLoad(operation, workload.in_flight, settings.measure_ms);
          settings.progress(`${system.name} rep ${rep} ${workload.id}: ${Math.round(result.ops_per_s)} ops/s, p50 ${result.p50_ms.toFixed(2)} ms, p99 ${result.p99_ms.toFixed(2)} ms${result.errors > 0 ? `, ${result.errors} errors (${result.firstError ?? ''})` : ''}`);
          byWorkload.set(workload.id, [...(byWorkload.get(workload.id) ?? []), result]);
        }
      }
      return settings.workloads.flatMap((workload) => {
        const reps = byWorkload.get(workload.id);
        if (reps === undefined) return [];
        return [{
          system: system.name, workload, reps,
          ops_per_s: median(reps.map((r) => r.ops_per_s)),
          p50_ms: median(reps.map((r) => r.p50_ms)),
          p99_ms: median(reps.map((r) => r.p99_ms)),
          errors: reps.reduce((sum, r) => sum + r.errors, 0),
        }];
      });
    } finally {
      await target.close();
    }
  } finally {
    await running.stop();
    settings.progress(`${system.name}: stopped`);
  }
}
