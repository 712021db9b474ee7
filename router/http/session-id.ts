/**
 * Session ids on the HTTP API are decimal strings of a positive integer below 2^53 (the znode
 * model's session ids are JavaScript numbers, exact up to there). Strings, so that no JSON
 * client rounds them and so that they read the same in a URL, a query and a body.
 */
import { ShardkvError } from '../../errors/codes.js';

/** JSON schema of a session id in params and queries (the range is checked by parseSessionId). */
export const SESSION_ID_SCHEMA = { type: 'string', pattern: '^[1-9][0-9]{0,15}$' } as const;

export function parseSessionId(text: string): number {
  const id = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id)) {
    throw new ShardkvError('BAD_ARGUMENTS', `session id must be a positive integer below 2^53 in decimal, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return id;
}

export function formatSessionId(id: number): string {
  return String(id);
}
