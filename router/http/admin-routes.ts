/**
 * The router's rebalancing API (a fastify plugin; errors go through the app's error handler):
 *   POST   /v1/groups {id}        plan adding a running, registered group to the ring (202)
 *   DELETE /v1/groups/:id         plan draining a group and taking it off the ring (202)
 *   GET    /v1/rebalance          the plan (or null), per-transfer state and progress, summary
 *   GET    /v1/rebalance/events   Server-Sent Events: `event: progress` with the status each time
 *                                 the plan changes, `event: end` once it is done or failed
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { RebalanceAdmin, RebalanceStatus } from '../rebalance/rebalance-admin.js';
import { openEventStream } from './event-stream.js';

export interface AdminRouteDeps {
  admin: RebalanceAdmin;
  /** How often the event stream looks at the plan. Default 250 ms. */
  eventsPoll_ms?: number;
  /** SSE comment keepalive. Default 15 s. */
  keepalive_ms?: number;
}

const GROUP_ID = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } as const;

export async function registerAdminRoutes<Log extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  deps: AdminRouteDeps,
): Promise<void> {
  app.post('/v1/groups', {
    schema: { body: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: GROUP_ID } } },
  }, async (request, reply) => {
    const { id } = request.body as { id: string };
    reply.code(202);
    return deps.admin.addGroup(id);
  });

  app.delete('/v1/groups/:id', {
    schema: { params: { type: 'object', required: ['id'], properties: { id: GROUP_ID } } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    reply.code(202);
    return deps.admin.removeGroup(id);
  });

  app.get('/v1/rebalance', async () => deps.admin.status());

  app.get('/v1/rebalance/events', async (request, reply) => {
    const response = reply.raw;
    reply.hijack();
    openEventStream(response);
    let closed = false;
    request.raw.on('close', () => {
      closed = true;
    });
    let lastSeen = '';
    let lastWrite_ms = Date.now();
    const keepalive_ms = deps.keepalive_ms ?? 15_000;
    try {
      while (!closed && !response.destroyed) {
        let status: RebalanceStatus | undefined;
        try {
          status = await deps.admin.status();
        } catch (err) {
          request.log.warn({ err }, 'rebalance status read failed; the event stream retries');
        }
        if (status !== undefined) {
          const key = status.plan === null ? 'none' : `${status.plan.id}:${status.plan.updatedAt_ms}:${status.plan.state}`;
          if (key !== lastSeen) {
            lastSeen = key;
            response.write(`event: progress\ndata: ${JSON.stringify(status)}\n\n`);
            lastWrite_ms = Date.now();
          }
          if (status.plan === null || status.plan.state === 'done' || status.plan.state === 'failed') {
            response.write(`event: end\ndata: ${JSON.stringify({ state: status.plan?.state ?? 'none' })}\n\n`);
            break;
          }
        }
        if (Date.now() - lastWrite_ms >= keepalive_ms) {
          response.write(': keepalive\n\n');
          lastWrite_ms = Date.now();
        }
        await new Promise((resolve) => setTimeout(resolve, deps.eventsPoll_ms ?? 250));
      }
    } finally {
      response.end();
    }
  });
}
