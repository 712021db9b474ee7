/**
 * Znode paths: the one place they are validated, and the placement key of a path.
 * A node's placement key is its parent path (DESIGN.md, "Data model"): the children of one
 * directory live on one group. The root `/` is placed with its children.
 */
import { ShardkvError } from '../errors/codes.js';

/** Longest accepted path, in bytes of its UTF-8 encoding (4 KiB, DESIGN.md "Limits"). */
export const MAX_PATH_BYTES = 4096;

export const ROOT_PATH = '/';

// A lone surrogate has no UTF-8 encoding: it would be written as U+FFFD, so two different
// paths would hash and store alike.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const SHOWN_PATH_CHARS = 80;

function shown(path: string): string {
  const quoted = JSON.stringify(path.length > SHOWN_PATH_CHARS ? path.slice(0, SHOWN_PATH_CHARS) : path);
  return path.length > SHOWN_PATH_CHARS ? `${quoted}... (${path.length} characters)` : quoted;
}

function badPath(path: string, rule: string): ShardkvError {
  return new ShardkvError('BAD_PATH', `invalid path ${shown(path)}: ${rule}`, { path, rule });
}

/** The reason `name` cannot be one component of a path, or undefined when it can. */
function componentProblem(name: string): string | undefined {
  if (name.length === 0) return 'it has an empty component (two slashes in a row)';
  if (name === '.' || name === '..') return `component "${name}" is not allowed (no relative components)`;
  return undefined;
}

/**
 * Throws BAD_PATH unless `path` is an absolute znode path: starts with `/`, no empty, `.` or
 * `..` component, no trailing slash (except the root `/`), no NUL character, well-formed
 * Unicode, at most MAX_PATH_BYTES bytes of UTF-8.
 */
export function validatePath(path: string): void {
  if (typeof path !== 'string') {
    throw new ShardkvError('BAD_PATH', `invalid path: expected a string, got ${typeof path}`, { rule: 'type' });
  }
  if (path.length === 0) throw badPath(path, 'it is empty (paths are absolute, like /a/b)');
  if (path[0] !== '/') throw badPath(path, 'it must start with "/" (paths are absolute)');
  if (path.includes('\u0000')) throw badPath(path, 'it contains a NUL character');
  const size_bytes = Buffer.byteLength(path, 'utf8');
  if (size_bytes > MAX_PATH_BYTES) {
    throw badPath(path, `it is ${size_bytes} bytes of UTF-8, more than the limit of ${MAX_PATH_BYTES}`);
  }
  if (LONE_SURROGATE.test(path)) throw badPath(path, 'it is not well-formed Unicode (a lone surrogate)');
  if (path === ROOT_PATH) return;
  if (path.endsWith('/')) throw badPath(path, 'it ends with "/" (only the root "/" may)');
  const components = path.slice(1).split('/');
  for (const name of components) {
    const problem = componentProblem(name);
    if (problem !== undefined) throw badPath(path, problem);
  }
}

/** The parent of a valid non-root path: `/a/b/c` -> `/a/b`, `/a` -> `/`. Throws BAD_PATH for `/`. */
export function parentPath(path: string): string {
  validatePath(path);
  if (path === ROOT_PATH) throw badPath(path, 'the root has no parent');
  return parentOfValidPath(path);
}

/**
 * The key a path is placed by on the ring: its parent path. The root `/` has no parent and is
 * placed with its children, by `/`.
 */
export function placementKey(path: string): string {
  validatePath(path);
  return path === ROOT_PATH ? ROOT_PATH : parentOfValidPath(path);
}

function parentOfValidPath(path: string): string {
  const lastSlash = path.lastIndexOf('/');
  return lastSlash === 0 ? ROOT_PATH : path.slice(0, lastSlash);
}

/** The path of child `name` under `parent`: joinPath('/a', 'b') = '/a/b', joinPath('/', 'a') = '/a'. */
export function joinPath(parent: string, name: string): string {
  validatePath(parent);
  if (typeof name !== 'string') {
    throw new ShardkvError('BAD_PATH', `invalid node name: expected a string, got ${typeof name}`, { rule: 'type' });
  }
  if (name.length === 0) {
    throw new ShardkvError('BAD_PATH', 'invalid node name "": it is empty', { name, rule: 'empty' });
  }
  if (name.includes('/')) {
    throw new ShardkvError('BAD_PATH', `invalid node name ${shown(name)}: it contains "/"`, { name, rule: 'slash' });
  }
  const problem = componentProblem(name);
  if (problem !== undefined) {
    throw new ShardkvError('BAD_PATH', `invalid node name ${shown(name)}: ${problem}`, { name, rule: problem });
  }
  const path = parent === ROOT_PATH ? `/${name}` : `${parent}/${name}`;
  validatePath(path);
  return path;
}
