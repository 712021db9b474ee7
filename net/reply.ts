import { ShardkvError, isErrorCode } from '../errors/codes.js';

/**
 * A reply on the wire is tagged, so that a responder's error reaches the requester as
 * the same ShardkvError (code, message, details) instead of as a plain value.
 */
export type TaggedReply =
  | { ok: true; body: unknown }
  | { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

export function successReply(body: unknown): TaggedReply {
  return { ok: true, body };
}

/** A ShardkvError travels as is; anything else thrown by a handler becomes INTERNAL. */
export function errorReply(err: unknown, subject: string): TaggedReply {
  const error = err instanceof ShardkvError
    ? err
    : new ShardkvError('INTERNAL', `request handler for ${subject} failed: ${err instanceof Error ? err.message : String(err)}`);
  return { ok: false, error: error.toJSON() };
}

/** Returns the body of a success reply; throws the ShardkvError carried by an error reply. */
export function openReply(reply: unknown, subject: string): unknown {
  if (typeof reply !== 'object' || reply === null || typeof (reply as { ok?: unknown }).ok !== 'boolean') {
    throw new ShardkvError('INTERNAL', `malformed reply from ${subject}: not a tagged reply`);
  }
  const tagged = reply as TaggedReply;
  if (tagged.ok) return tagged.body;
  const { code, message, details } = tagged.error ?? {};
  if (!isErrorCode(code) || typeof message !== 'string') {
    throw new ShardkvError('INTERNAL', `malformed error reply from ${subject}`, { code, message });
  }
  const plainDetails = typeof details === 'object' && details !== null ? details : undefined;
  throw new ShardkvError(code, message, plainDetails);
}
