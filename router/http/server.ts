/**
 * The router's HTTP API (README.md beside this file is its reference). A fastify instance over
 * a ClusterBackend: it validates every input with JSON schemas and ring/path.ts, calls the
 * backend, and answers JSON (errors as `{code, message}` with the status of errors/codes.ts).
 */
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../../logging/logger.js';
import { ShardkvError } from '../../errors/codes.js';
import { validatePath } from '../../ring/path.js';
import { DEFAULT_MAX_DATA_BYTES } from '../../znode/znode-tree.js';
import type { CreateMode, MultiOpRequest } from '../../znode/types.js';
import type { ClusterBackend, Consistency, MultiOpResult } from './backend.js';
import { errorReply, UNKNOWN_ROUTE } from './error-reply.js';
import { registerUiRoutes } from './ui-routes.js';
import { pipeEventStream } from './event-stream.js';
import { createRouterMetrics, type RouterMetrics } from './metrics.js';
import { checkDataSize, dataForJson, dataFromJson, type DataEncoding } from './node-data.js';
import {
  CHILDREN_QUERY_SCHEMA,
  CHILDREN_RESPONSE,
  CREATE_QUERY_SCHEMA,
  EXISTS_RESPONSE,
  GROUPS_RESPONSE,
  HEALTH_RESPONSE,
  META_RESPONSE,
  MULTI_QUERY_SCHEMA,
  MULTI_RESPONSE,
  multiBodySchema,
  NODE_RESPONSE,
  PATH_PARAMS_SCHEMA,
  PATH_STAT_RESPONSE,
  READ_QUERY_SCHEMA,
  RING_RESPONSE,
  SESSION_PARAMS_SCHEMA,
  SESSION_RESPONSE,
  sessionBodySchema,
  TEXT_RESPONSE,
  VERSION_QUERY_SCHEMA,
  type HttpCreateMode,
} from './schemas.js';
import { formatSessionId, parseSessionId } from './session-id.js';

export interface RouterHttpLimits {
  /** Largest node data (the shard groups' limit; DESIGN.md: 1 MiB by default). */
  maxDataBytes: number;
  /** Largest /v1/multi JSON body (base64 data is 4/3 of its bytes). */
  maxMultiBodyBytes: number;
  maxMultiOps: number;
  minSessionTimeout_ms: number;
  maxSessionTimeout_ms: number;
  /** Comment lines on idle event streams, so proxies and clients see the stream alive. */
  sseKeepalive_ms: number;
  /** A backend call not answered by then is 504 TIMEOUT (the backend has its own deadlines). */
  request_timeout_ms: number;
}

export const DEFAULT_ROUTER_HTTP_LIMITS: RouterHttpLimits = {
  maxDataBytes: DEFAULT_MAX_DATA_BYTES,
  maxMultiBodyBytes: 8 * 1024 * 1024,
  maxMultiOps: 1000,
  minSessionTimeout_ms: 100,
  maxSessionTimeout_ms: 10 * 60 * 1000,
  sseKeepalive_ms: 15_000,
  request_timeout_ms: 30_000,
};

/** Room above maxDataBytes so that the handler, not the body reader, words the 413. */
const BODY_SLACK_BYTES = 1024;
/** Percent-encoded, a 4 KiB path can be three times as long in the URL. */
const MAX_URL_PATH_CHARS = 3 * 4096 + 64;

export type RouterHttpApp = ReturnType<typeof buildRouterHttp>;

export interface RouterHttpOptions {
  backend: ClusterBackend;
  logger: Logger;
  limits?: Partial<RouterHttpLimits>;
  /** Share one with the backend so that it can count MOVED retries; created if absent. */
  metrics?: RouterMetrics;
}

const MODE_BY_HTTP_NAME: Record<HttpCreateMode, CreateMode> = {
  persistent: 'persistent',
  ephemeral: 'ephemeral',
  sequential: 'persistent_sequential',
  persistent_sequential: 'persistent_sequential',
  ephemeral_sequential: 'ephemeral_sequential',
  container: 'container',
  ttl: 'persistent_with_ttl',
  persistent_with_ttl: 'persistent_with_ttl',
  persistent_sequential_with_ttl: 'persistent_sequential_with_ttl',
};

function badArguments(message: string): ShardkvError {
  return new ShardkvError('BAD_ARGUMENTS', message);
}

/** The znode path of a wildcard route: `/v1/nodes/a/b` -> `/a/b`, `/v1/nodes/` -> `/`. */
function pathParam(request: FastifyRequest): string {
  const path = `/${(request.params as { '*': string })['*']}`;
  validatePath(path);
  return path;
}

function optionalSession(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseSessionId(text);
}

function watchFlag(query: { watch?: string; session?: string }): { watch: boolean; sessionId?: number } {
  const watch = query.watch === '1' || query.watch === 'true';
  const sessionId = optionalSession(query.session);
  if (watch && sessionId === undefined) {
    throw badArguments('watch=1 needs session=<id>: watch events are delivered on the session event stream');
  }
  return sessionId === undefined ? { watch } : { watch, sessionId };
}

/** Checks the mode/session/ttl combination of a create and returns the model's mode. */
function createArguments(
  httpMode: HttpCreateMode,
  sessionId: number | undefined,
  ttl_ms: number | undefined,
  where: string,
): { mode: CreateMode; options: { sessionId?: number; ttl_ms?: number } } {
  const mode = MODE_BY_HTTP_NAME[httpMode];
  const ephemeral = mode === 'ephemeral' || mode === 'ephemeral_sequential';
  const withTtl = mode === 'persistent_with_ttl' || mode === 'persistent_sequential_with_ttl';
  if (ephemeral && sessionId === undefined) throw badArguments(`${where}: mode ${httpMode} needs session=<id>`);
  if (withTtl && ttl_ms === undefined) throw badArguments(`${where}: mode ${httpMode} needs ttl=<ms>`);
  if (!withTtl && ttl_ms !== undefined) throw badArguments(`${where}: ttl is only for the ttl modes, not ${httpMode}`);
  const options: { sessionId?: number; ttl_ms?: number } = {};
  if (sessionId !== undefined) options.sessionId = sessionId;
  if (ttl_ms !== undefined) options.ttl_ms = ttl_ms;
  return { mode, options };
}

function bodyBytes(body: unknown): Uint8Array {
  return body instanceof Uint8Array ? body : new Uint8Array(0);
}

interface MultiOpBody {
  op: 'create' | 'set' | 'delete' | 'check';
  path: string;
  data?: string;
  encoding?: DataEncoding;
  mode?: HttpCreateMode;
  ttl?: number;
  version?: number;
}

function multiOpRequest(op: MultiOpBody, index: number, sessionId: number | undefined, maxDataBytes: number): MultiOpRequest {
  const where = `ops[${index}]`;
  validatePath(op.path);
  const version = op.version ?? -1;
  const data = (): Uint8Array => {
    const bytes = dataFromJson(op.data, op.encoding, where);
    checkDataSize(bytes, maxDataBytes, where);
    return bytes;
  };
  switch (op.op) {
    case 'create': {
      const { mode, options } = createArguments(op.mode ?? 'persistent', sessionId, op.ttl, where);
      return options.ttl_ms === undefined
        ? { op: 'create', path: op.path, data: data(), mode }
        : { op: 'create', path: op.path, data: data(), mode, ttl_ms: options.ttl_ms };
    }
    case 'set':
      return { op: 'setData', path: op.path, data: data(), version };
    case 'delete':
      return { op: 'delete', path: op.path, version };
    case 'check':
      return { op: 'check', path: op.path, version };
  }
}

function multiResultBody(result: MultiOpResult): { op: string; path: string; stat?: unknown } {
  switch (result.op) {
    case 'create':
      return { op: 'create', path: result.path, stat: result.stat };
    case 'setData':
      return { op: 'set', path: result.path, stat: result.stat };
    default:
      return { op: result.op, path: result.path };
  }
}

async function withDeadline<T>(promise: Promise<T>, timeout_ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ShardkvError('TIMEOUT', `the cluster did not answer within ${timeout_ms} ms`)), timeout_ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Per-request log lines at debug (LOG_LEVEL=debug shows them); errors are logged by errorReply. */
class DebugRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug({ statusCode: reply.statusCode, responseTime_ms: reply.elapsedTime }, 'request completed');
  }

  override routeNotFound(): void {}
}

export function buildRouterHttp(options: RouterHttpOptions) {
  const limits: RouterHttpLimits = { ...DEFAULT_ROUTER_HTTP_LIMITS, ...options.limits };
  const metrics = options.metrics ?? createRouterMetrics();
  const backend = options.backend;
  const call = <T>(promise: Promise<T>): Promise<T> => withDeadline(promise, limits.request_timeout_ms);
  const nodeBodyLimit = limits.maxDataBytes + BODY_SLACK_BYTES;

  const app = Fastify({
    loggerInstance: options.logger,
    logController: new DebugRequestLogs(),
    routerOptions: { maxParamLength: MAX_URL_PATH_CHARS },
    bodyLimit: limits.maxMultiBodyBytes,
    // Unknown body keys are refused (a typo like `verison` must not be dropped silently).
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: (error, request, reply) => {
      const { status, body } = errorReply(error, request.log, request.id);
      void (reply as FastifyReply).code(status).send(body);
    },
  });

  app.setErrorHandler((error, request, reply) => {
    const isNodeRoute = request.routeOptions.url?.startsWith('/v1/nodes/') === true;
    const { status, body } = errorReply(error, request.log, request.id, isNodeRoute ? limits.maxDataBytes : limits.maxMultiBodyBytes);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ code: UNKNOWN_ROUTE, message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime);
  });

  // Open event streams end when the server closes, or close() would wait for them forever.
  const openStreams = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const stream of openStreams) stream.abort();
  });

  // The node routes take the body as raw bytes whatever its content type (JSON included).
  void app.register(async (nodes) => {
    nodes.removeAllContentTypeParsers();
    nodes.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: nodeBodyLimit }, (_request, body, done) => done(null, body));

    nodes.post(
      '/v1/nodes/*',
      { schema: { params: PATH_PARAMS_SCHEMA, querystring: CREATE_QUERY_SCHEMA, response: { 201: PATH_STAT_RESPONSE } } },
      async (request, reply) => {
        const path = pathParam(request);
        const query = request.query as { mode: HttpCreateMode; session?: string; ttl?: number };
        const data = bodyBytes(request.body);
        checkDataSize(data, limits.maxDataBytes, path);
        const { mode, options: createOptions } = createArguments(query.mode, optionalSession(query.session), query.ttl, 'create');
        const created = await call(backend.create(path, data, mode, createOptions));
        return reply.code(201).send({ path: created.path, stat: created.stat });
      },
    );

    nodes.get(
      '/v1/nodes/*',
      { schema: { params: PATH_PARAMS_SCHEMA, querystring: READ_QUERY_SCHEMA, response: { 200: NODE_RESPONSE } } },
      async (request) => {
        const path = pathParam(request);
        const query = request.query as { watch?: string; session?: string; consistency: Consistency };
        const read = await call(backend.get(path, { consistency: query.consistency, ...watchFlag(query) }));
        return { path, ...dataForJson(read.data), stat: read.stat };
      },
    );

    nodes.put(
      '/v1/nodes/*',
      { schema: { params: PATH_PARAMS_SCHEMA, querystring: VERSION_QUERY_SCHEMA, response: { 200: PATH_STAT_RESPONSE } } },
      async (request) => {
        const path = pathParam(request);
        const { version } = request.query as { version: number };
        const data = bodyBytes(request.body);
        checkDataSize(data, limits.maxDataBytes, path);
        const { stat } = await call(backend.set(path, data, version));
        return { path, stat };
      },
    );

    nodes.delete(
      '/v1/nodes/*',
      { schema: { params: PATH_PARAMS_SCHEMA, querystring: VERSION_QUERY_SCHEMA } },
      async (request, reply) => {
        const path = pathParam(request);
        const { version } = request.query as { version: number };
        await call(backend.delete(path, version));
        return reply.code(204).send();
      },
    );
  });

  app.get(
    '/v1/exists/*',
    { schema: { params: PATH_PARAMS_SCHEMA, querystring: READ_QUERY_SCHEMA, response: { 200: EXISTS_RESPONSE } } },
    async (request) => {
      const path = pathParam(request);
      const query = request.query as { watch?: string; session?: string; consistency: Consistency };
      const stat = await call(backend.exists(path, { consistency: query.consistency, ...watchFlag(query) }));
      return { path, stat };
    },
  );

  app.get(
    '/v1/children/*',
    { schema: { params: PATH_PARAMS_SCHEMA, querystring: CHILDREN_QUERY_SCHEMA, response: { 200: CHILDREN_RESPONSE } } },
    async (request) => {
      const path = pathParam(request);
      const read = await call(backend.children(path, watchFlag(request.query as { watch?: string; session?: string })));
      return { path, children: read.children, stat: read.stat };
    },
  );

  app.post(
    '/v1/multi',
    { schema: { querystring: MULTI_QUERY_SCHEMA, body: multiBodySchema(limits.maxMultiOps), response: { 200: MULTI_RESPONSE } } },
    async (request) => {
      const sessionId = optionalSession((request.query as { session?: string }).session);
      const { ops } = request.body as { ops: MultiOpBody[] };
      const requests = ops.map((op, index) => multiOpRequest(op, index, sessionId, limits.maxDataBytes));
      const results = await call(backend.multi(requests, sessionId === undefined ? {} : { sessionId }));
      return { results: results.map(multiResultBody) };
    },
  );

  app.post(
    '/v1/sessions',
    {
      schema: {
        body: sessionBodySchema(limits.minSessionTimeout_ms, limits.maxSessionTimeout_ms),
        response: { 201: SESSION_RESPONSE },
      },
    },
    async (request, reply) => {
      const body = request.body as { timeout_ms?: number; timeoutMs?: number };
      const timeout_ms = body.timeout_ms ?? body.timeoutMs;
      if (timeout_ms === undefined) throw badArguments('body needs timeout_ms');
      const session = await call(backend.openSession(timeout_ms));
      return reply.code(201).send({ id: formatSessionId(session.id), timeout_ms: session.timeout_ms });
    },
  );

  app.post('/v1/sessions/:id/keepalive', { schema: { params: SESSION_PARAMS_SCHEMA } }, async (request, reply) => {
    await call(backend.keepalive(parseSessionId((request.params as { id: string }).id)));
    return reply.code(204).send();
  });

  app.delete('/v1/sessions/:id', { schema: { params: SESSION_PARAMS_SCHEMA } }, async (request, reply) => {
    await call(backend.closeSession(parseSessionId((request.params as { id: string }).id)));
    return reply.code(204).send();
  });

  app.get('/v1/sessions/:id/events', { schema: { params: SESSION_PARAMS_SCHEMA } }, async (request, reply: FastifyReply) => {
    const sessionId = parseSessionId((request.params as { id: string }).id);
    const stream = new AbortController();
    // Before any header: an unknown session is an ordinary JSON 404.
    const events = await call(backend.sessionEvents(sessionId, stream.signal));
    openStreams.add(stream);
    request.raw.on('close', () => stream.abort());
    reply.hijack();
    try {
      await pipeEventStream(events, reply.raw, { keepalive_ms: limits.sseKeepalive_ms, signal: stream.signal, log: request.log });
    } finally {
      stream.abort();
      openStreams.delete(stream);
    }
  });

  app.get('/v1/ring', { schema: { response: { 200: RING_RESPONSE } } }, async () => call(backend.ring()));

  app.get('/v1/groups', { schema: { response: { 200: GROUPS_RESPONSE } } }, async () => ({ groups: await call(backend.groups()) }));

  app.get(
    '/v1/meta/*',
    { schema: { params: PATH_PARAMS_SCHEMA, response: { 200: META_RESPONSE } } },
    async (request) => {
      const path = pathParam(request);
      const read = await call(backend.metaGet(path));
      return { path, ...dataForJson(read.data), stat: read.stat, children: read.children };
    },
  );

  app.get('/healthz', { schema: { response: { 200: HEALTH_RESPONSE, 503: HEALTH_RESPONSE } } }, async (_request, reply) => {
    const health = await call(backend.health());
    return reply.code(health.status === 'down' ? 503 : 200).send(health);
  });

  app.get('/metrics', { schema: { response: { 200: TEXT_RESPONSE } } }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  void app.register(async (ui) => registerUiRoutes(ui, { ring: () => backend.ring() }));

  return app;
}
