/**
 * Sequential nodes as the recipes use them: names `<prefix><10-digit sequence>`, ordered by the
 * sequence, created "protected" as Curator's `withProtection()` does: the name starts with
 * `_c_<uuid>-`, so a create whose answer was lost (CONNECTION_LOSS, TIMEOUT) can find out whether
 * it happened by looking for its uuid among the directory's children.
 */
import { randomUUID } from 'node:crypto';
import { ShardkvClientError } from '../client-error.js';
import type { Session } from '../session.js';
import type { CreateMode } from '../types.js';

const SEQUENCE_SUFFIX = /(\d{10})$/;
const PROTECTED_PREFIX = /^_c_[0-9a-f-]{36}-/;
const CREATE_ATTEMPTS = 3;

/** The sequence number at the end of a sequential node's name, or undefined. */
export function sequenceOf(name: string): number | undefined {
  const match = SEQUENCE_SUFFIX.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/** The name without its protection prefix: `_c_<uuid>-lock-0000000003` -> `lock-0000000003`. */
export function baseName(name: string): string {
  return name.replace(PROTECTED_PREFIX, '');
}

/** The sequential names among `names` whose base name starts with one of `prefixes`, by sequence. */
export function sortedParticipants(names: readonly string[], prefixes: readonly string[]): string[] {
  return names
    .filter((name) => sequenceOf(name) !== undefined && prefixes.some((prefix) => baseName(name).startsWith(prefix)))
    .sort((a, b) => sequenceOf(a)! - sequenceOf(b)! || (a < b ? -1 : a > b ? 1 : 0));
}

export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function isCode(err: unknown, code: string): boolean {
  return err instanceof ShardkvClientError && err.code === code;
}

/** An answer that may or may not have been applied (ZooKeeper's connection loss). */
function outcomeUnknown(err: unknown): boolean {
  return isCode(err, 'CONNECTION_LOSS') || isCode(err, 'TIMEOUT');
}

/** Creates `<dir>/_c_<uuid>-<prefix><seq>` owned by `session`; answers its path. */
export async function createProtectedSequential(
  session: Session,
  dir: string,
  prefix: string,
  mode: Extract<CreateMode, 'ephemeral_sequential' | 'persistent_sequential'>,
  data: string | Uint8Array = '',
): Promise<string> {
  const protection = `_c_${randomUUID()}-`;
  let lastError: unknown;
  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
    try {
      return (await session.create(childPath(dir, `${protection}${prefix}`), data, { mode })).path;
    } catch (err) {
      if (!outcomeUnknown(err)) throw err;
      lastError = err;
      const listing = await session.children(dir);
      const ours = listing.children.find((name) => name.startsWith(protection));
      if (ours !== undefined) return childPath(dir, ours);
    }
  }
  throw lastError;
}

/** Deletes a node; one already gone is what the caller wanted. */
export async function deleteIfExists(session: Session, path: string): Promise<void> {
  try {
    await session.client.delete(path);
  } catch (err) {
    if (!isCode(err, 'NO_NODE')) throw err;
  }
}
