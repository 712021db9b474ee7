/** Builds the router HTTP app over a MemoryBackend, with a logger whose lines the test can read. */
import { pino } from 'pino';
import type { Test } from 'tap';
import { RingHasher } from '../../ring/hasher.js';
import { buildRouterHttp, type RouterHttpApp, type RouterHttpLimits } from '../../router/http/server.js';
import { createRouterMetrics, type RouterMetrics } from '../../router/http/metrics.js';
import { MemoryBackend } from './memory-backend.js';

export interface Harness {
  app: RouterHttpApp;
  backend: MemoryBackend;
  metrics: RouterMetrics;
  /** Log lines written so far (JSON objects). */
  logLines: Array<Record<string, unknown>>;
}

let hasher: RingHasher | undefined;

export async function startHarness(t: Test, limits: Partial<RouterHttpLimits> = {}): Promise<Harness> {
  hasher ??= await RingHasher.create();
  const logLines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  const backend = new MemoryBackend({ hasher, ...(limits.maxDataBytes === undefined ? {} : { maxDataBytes: limits.maxDataBytes }) });
  const metrics = createRouterMetrics();
  const app = buildRouterHttp({ backend, logger, limits, metrics });
  t.teardown(async () => {
    backend.close();
    const closing = app.close();
    // The test is over: cut connections that fetch's pool keeps open (idle sockets would hold close for seconds).
    app.server.closeAllConnections();
    await closing;
  });
  await app.ready();
  return { app, backend, metrics, logLines };
}

/** Opens a session through the API and returns its id. */
export async function openSession(app: RouterHttpApp, timeout_ms = 10_000): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { timeout_ms } });
  if (response.statusCode !== 201) throw new Error(`open session answered ${response.statusCode}: ${response.body}`);
  return (response.json() as { id: string }).id;
}
