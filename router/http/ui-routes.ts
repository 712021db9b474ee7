/**
 * GET /ui: the ring page (ui-page.ts), a fastify plugin. The page arrives drawn from the state
 * the sources give now, then polls /v1/ring (and /v1/rebalance when `rebalance` is given, i.e.
 * when the router serves that route) by itself.
 */
import type { FastifyInstance } from 'fastify';
import type { RingView } from './backend.js';
import { ringPageHtml } from './ui-page.js';

export interface UiRouteSources {
  ring: () => Promise<RingView>;
  /** The rebalance status as GET /v1/rebalance answers it; absent when the router has no such route. */
  rebalance?: () => Promise<unknown>;
  /** How often the page polls. Default 1000 ms. */
  poll_ms?: number;
}

export async function registerUiRoutes(app: FastifyInstance, sources: UiRouteSources): Promise<void> {
  app.get('/ui', async (request, reply) => {
    const ring = await sources.ring();
    let rebalance: unknown = null;
    if (sources.rebalance !== undefined) {
      // The page still shows the ring when the rebalance status cannot be read; it polls again.
      rebalance = await sources.rebalance().catch((err: unknown) => {
        request.log.warn({ err }, 'rebalance status unavailable for /ui');
        return null;
      });
    }
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return ringPageHtml({ ring, rebalance, pollRebalance: sources.rebalance !== undefined, ...(sources.poll_ms === undefined ? {} : { poll_ms: sources.poll_ms }) });
  });
}
