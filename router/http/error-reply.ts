/**
 * Every error the router answers is JSON `{code, message}` (plus `details` where the error has
 * them) with the HTTP status of its code in errors/codes.ts. Fastify's own errors (validation,
 * malformed JSON, body too large, bad URL) are mapped here too; anything unexpected is a 500
 * INTERNAL whose stack goes to the log, not to the client.
 */
import type { FastifyBaseLogger } from 'fastify';
import { ERROR_CODES, ShardkvError, type ErrorCode } from '../../errors/codes.js';

/** The HTTP API's own "no such route" (404). */
export const UNKNOWN_ROUTE: ErrorCode = 'UNKNOWN_ROUTE';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  validation?: unknown;
  message?: unknown;
}

function reply(code: ErrorCode, message: string): { status: number; body: ErrorBody } {
  return { status: ERROR_CODES[code].http, body: { code, message } };
}

export function errorReply(error: unknown, log: FastifyBaseLogger, requestId: string, maxBodyBytes?: number): { status: number; body: ErrorBody } {
  if (error instanceof ShardkvError) return { status: error.httpStatus, body: error.toJSON() };
  const fastifyError = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  const message = typeof fastifyError.message === 'string' ? fastifyError.message : String(error);
  if (fastifyError.validation !== undefined) return reply('BAD_ARGUMENTS', message);
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = maxBodyBytes === undefined ? '' : ` (${maxBodyBytes} bytes)`;
    return reply('DATA_TOO_LARGE', `request body is larger than the limit${limit}`);
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  // Malformed or empty JSON, unsupported content type, undecodable URL: the caller's mistake.
  if (status >= 400 && status < 500) return reply('BAD_ARGUMENTS', message);
  log.error({ err: error, requestId }, 'unhandled error in router HTTP request');
  return reply('INTERNAL', `internal error (request ${requestId}); see the router log`);
}
