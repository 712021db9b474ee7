/**
 * The ring as a JSON document, for the meta tree (`/ring`):
 *   { "version": 7, "vnodesPerGroup": 128,
 *     "groups": { "g1": { "state": "active", "tokens": "<base64>" }, ... } }
 * `tokens` is the base64 of the group's tokens as 8-byte big-endian integers, ascending
 * (about 1.4 KB for 128 tokens). Groups are written in id order, so equal rings give equal text.
 */
import { ShardkvError } from '../errors/codes.js';
import { type GroupState, isGroupState, validateGroupId } from './group.js';

export interface RingDocument {
  version: number;
  vnodesPerGroup: number;
  groups: Record<string, { state: GroupState; tokens: string }>;
}

/** Upper bound on vnodesPerGroup, against absurd documents. */
export const MAX_VNODES_PER_GROUP = 65_536;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TOKEN_BYTES = 8;

export function encodeTokens(tokens: readonly bigint[]): string {
  const bytes = Buffer.alloc(tokens.length * TOKEN_BYTES);
  tokens.forEach((token, i) => bytes.writeBigUInt64BE(token, i * TOKEN_BYTES));
  return bytes.toString('base64');
}

function malformed(problem: string): ShardkvError {
  return new ShardkvError('BAD_ARGUMENTS', `malformed ring document: ${problem}`, { problem });
}

function decodeTokens(groupId: string, text: unknown): bigint[] {
  if (typeof text !== 'string' || !BASE64.test(text)) {
    throw malformed(`groups.${groupId}.tokens must be a base64 string`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length === 0 || bytes.length % TOKEN_BYTES !== 0) {
    throw malformed(`groups.${groupId}.tokens must hold one or more 8-byte tokens, got ${bytes.length} bytes`);
  }
  const tokens: bigint[] = [];
  for (let at = 0; at < bytes.length; at += TOKEN_BYTES) tokens.push(bytes.readBigUInt64BE(at));
  for (let i = 1; i < tokens.length; i += 1) {
    if (tokens[i]! <= tokens[i - 1]!) throw malformed(`groups.${groupId}.tokens must be strictly ascending`);
  }
  return tokens;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectKeys(where: string, value: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) if (!(key in value)) throw malformed(`${where} has no "${key}"`);
  for (const key of Object.keys(value)) if (!keys.includes(key)) throw malformed(`${where} has an unknown key "${key}"`);
}

/** A validated ring document: tokens decoded, every token owned by exactly one group. */
export interface ParsedRingDocument {
  version: number;
  vnodesPerGroup: number;
  groups: Array<{ id: string; state: GroupState; tokens: bigint[] }>;
}

/** Validates a parsed JSON value as a ring document; throws BAD_ARGUMENTS naming the first problem. */
export function parseRingDocument(doc: unknown): ParsedRingDocument {
  if (!isPlainObject(doc)) throw malformed('expected a JSON object');
  expectKeys('the document', doc, ['version', 'vnodesPerGroup', 'groups']);
  const { version, vnodesPerGroup, groups } = doc;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw malformed('version must be a non-negative integer');
  }
  if (typeof vnodesPerGroup !== 'number' || !Number.isSafeInteger(vnodesPerGroup) || vnodesPerGroup < 1 || vnodesPerGroup > MAX_VNODES_PER_GROUP) {
    throw malformed(`vnodesPerGroup must be an integer from 1 to ${MAX_VNODES_PER_GROUP}`);
  }
  if (!isPlainObject(groups)) throw malformed('groups must be an object of group id to { state, tokens }');
  const seen = new Set<bigint>();
  const parsed = Object.keys(groups).sort().map((id) => {
    try {
      validateGroupId(id);
    } catch (err) {
      throw malformed(`groups has a bad key: ${(err as Error).message}`);
    }
    const group = groups[id];
    if (!isPlainObject(group)) throw malformed(`groups.${id} must be an object { state, tokens }`);
    expectKeys(`groups.${id}`, group, ['state', 'tokens']);
    if (!isGroupState(group.state)) throw malformed(`groups.${id}.state must be "active", "joining" or "leaving"`);
    const tokens = decodeTokens(id, group.tokens);
    for (const token of tokens) {
      if (seen.has(token)) throw malformed(`token ${token.toString(16)} of group ${id} is also another group's token`);
      seen.add(token);
    }
    return { id, state: group.state, tokens };
  });
  return { version, vnodesPerGroup, groups: parsed };
}
