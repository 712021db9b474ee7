import { ShardkvError, type ErrorCode } from '../errors/codes.js';

/** The errors both transports raise for the same situations, built in one place. */

export function timeoutError(subject: string, timeout_ms: number): ShardkvError {
  return new ShardkvError('TIMEOUT', `no reply from ${subject} within ${timeout_ms} ms`, { subject, timeout_ms });
}

export function noRespondersError(subject: string, code: ErrorCode = 'UNAVAILABLE'): ShardkvError {
  return new ShardkvError(code, `no responder is subscribed to ${subject}`, { subject, noResponders: true });
}

export function connectionLossError(what: string): ShardkvError {
  return new ShardkvError('CONNECTION_LOSS', what);
}
