/**
 * JSON schemas of the router HTTP API: validation of params, queries and bodies, and fast
 * serialisation of responses (fastify uses one schema for both).
 */
import { SESSION_ID_SCHEMA } from './session-id.js';

const integer = { type: 'integer' } as const;

export const STAT_SCHEMA = {
  type: 'object',
  required: ['czxid', 'mzxid', 'pzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren'],
  properties: {
    czxid: integer,
    mzxid: integer,
    pzxid: integer,
    ctime: integer,
    mtime: integer,
    version: integer,
    cversion: integer,
    aversion: integer,
    ephemeralOwner: integer,
    dataLength: integer,
    numChildren: integer,
  },
} as const;

const NULLABLE_STAT_SCHEMA = { ...STAT_SCHEMA, type: ['object', 'null'] } as const;

/** Create modes on the HTTP API: the short names and the znode model's full names. */
export const HTTP_CREATE_MODES = [
  'persistent',
  'ephemeral',
  'sequential',
  'persistent_sequential',
  'ephemeral_sequential',
  'container',
  'ttl',
  'persistent_with_ttl',
  'persistent_sequential_with_ttl',
] as const;
export type HttpCreateMode = (typeof HTTP_CREATE_MODES)[number];

const WATCH_FLAG = { type: 'string', enum: ['1', '0', 'true', 'false'] } as const;
// ZooKeeper's versions are 32-bit signed counters: a larger one is malformed, not merely stale.
const VERSION = { type: 'integer', minimum: -1, maximum: 2 ** 31 - 1, default: -1 } as const;
const TTL_MS = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

export const PATH_PARAMS_SCHEMA = {
  type: 'object',
  required: ['*'],
  properties: { '*': { type: 'string' } },
} as const;

export const SESSION_PARAMS_SCHEMA = {
  type: 'object',
  required: ['id'],
  properties: { id: SESSION_ID_SCHEMA },
} as const;

export const CREATE_QUERY_SCHEMA = {
  type: 'object',
  properties: {
    mode: { type: 'string', enum: HTTP_CREATE_MODES, default: 'persistent' },
    session: SESSION_ID_SCHEMA,
    ttl: TTL_MS,
  },
} as const;

export const READ_QUERY_SCHEMA = {
  type: 'object',
  properties: {
    watch: WATCH_FLAG,
    session: SESSION_ID_SCHEMA,
    consistency: { type: 'string', enum: ['linearizable', 'sequential', 'stale'], default: 'linearizable' },
  },
} as const;

export const CHILDREN_QUERY_SCHEMA = {
  type: 'object',
  properties: { watch: WATCH_FLAG, session: SESSION_ID_SCHEMA },
} as const;

export const VERSION_QUERY_SCHEMA = {
  type: 'object',
  properties: { version: VERSION },
} as const;

export const MULTI_QUERY_SCHEMA = {
  type: 'object',
  properties: { session: SESSION_ID_SCHEMA },
} as const;

export function multiBodySchema(maxOps: number) {
  return {
    type: 'object',
    required: ['ops'],
    additionalProperties: false,
    properties: {
      ops: {
        type: 'array',
        minItems: 1,
        maxItems: maxOps,
        items: {
          type: 'object',
          required: ['op', 'path'],
          additionalProperties: false,
          properties: {
            op: { type: 'string', enum: ['create', 'set', 'delete', 'check'] },
            path: { type: 'string' },
            data: { type: 'string' },
            encoding: { type: 'string', enum: ['utf8', 'base64'] },
            mode: { type: 'string', enum: HTTP_CREATE_MODES },
            ttl: TTL_MS,
            version: { type: 'integer', minimum: -1 },
          },
        },
      },
    },
  } as const;
}

export function sessionBodySchema(min_ms: number, max_ms: number) {
  const timeout = { type: 'integer', minimum: min_ms, maximum: max_ms } as const;
  return {
    type: 'object',
    additionalProperties: false,
    // `timeoutMs` is accepted as an alias (issue 5 spells it so); `timeout_ms` is the name.
    properties: { timeout_ms: timeout, timeoutMs: timeout },
    anyOf: [{ required: ['timeout_ms'] }, { required: ['timeoutMs'] }],
  } as const;
}

export const PATH_STAT_RESPONSE = {
  type: 'object',
  required: ['path', 'stat'],
  properties: { path: { type: 'string' }, stat: STAT_SCHEMA },
} as const;

export const NODE_RESPONSE = {
  type: 'object',
  required: ['path', 'data', 'encoding', 'stat'],
  properties: {
    path: { type: 'string' },
    data: { type: 'string' },
    encoding: { type: 'string', enum: ['utf8', 'base64'] },
    stat: STAT_SCHEMA,
  },
} as const;

export const EXISTS_RESPONSE = {
  type: 'object',
  required: ['path', 'stat'],
  properties: { path: { type: 'string' }, stat: NULLABLE_STAT_SCHEMA },
} as const;

export const CHILDREN_RESPONSE = {
  type: 'object',
  required: ['path', 'children', 'stat'],
  properties: {
    path: { type: 'string' },
    children: { type: 'array', items: { type: 'string' } },
    stat: NULLABLE_STAT_SCHEMA,
  },
} as const;

export const MULTI_RESPONSE = {
  type: 'object',
  required: ['results'],
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['op', 'path'],
        properties: { op: { type: 'string' }, path: { type: 'string' }, stat: STAT_SCHEMA },
      },
    },
  },
} as const;

export const SESSION_RESPONSE = {
  type: 'object',
  required: ['id', 'timeout_ms'],
  properties: { id: { type: 'string' }, timeout_ms: integer },
} as const;

export const RING_RESPONSE = {
  type: 'object',
  required: ['version', 'vnodesPerGroup', 'groups', 'tokens'],
  properties: {
    version: integer,
    vnodesPerGroup: integer,
    groups: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'state', 'tokenCount', 'share'],
        properties: { id: { type: 'string' }, state: { type: 'string' }, tokenCount: integer, share: { type: 'number' } },
      },
    },
    tokens: {
      type: 'array',
      items: { type: 'object', required: ['token', 'group'], properties: { token: { type: 'string' }, group: { type: 'string' } } },
    },
  },
} as const;

export const GROUPS_RESPONSE = {
  type: 'object',
  required: ['groups'],
  properties: {
    groups: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'state', 'members', 'leader'],
        properties: {
          id: { type: 'string' },
          state: { type: 'string' },
          members: { type: 'array', items: { type: 'string' } },
          leader: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

export const META_RESPONSE = {
  type: 'object',
  required: ['path', 'data', 'encoding', 'stat', 'children'],
  properties: {
    ...NODE_RESPONSE.properties,
    children: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const HEALTH_RESPONSE = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'down'] },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'ok'],
        properties: { name: { type: 'string' }, ok: { type: 'boolean' }, message: { type: 'string' } },
      },
    },
  },
} as const;

export const TEXT_RESPONSE = { type: 'string' } as const;
