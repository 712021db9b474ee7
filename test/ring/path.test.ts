/** Znode path validation, parent paths and placement keys. */
import t from 'tap';
import { MAX_PATH_BYTES, joinPath, parentPath, placementKey, validatePath } from '../../ring/path.js';

const valid = [
  '/',
  '/a',
  '/a/b/c',
  '/locks/job-7/lock-0000000012',
  '/with space/and.dot/..x/x..',
  '/ünïcödé/日本/😀',
  '/.hidden',
  `/${'a'.repeat(MAX_PATH_BYTES - 1)}`,
  `/${'é'.repeat((MAX_PATH_BYTES - 2) / 2)}`,
];

const invalid: Array<[string, RegExp]> = [
  ['', /empty/],
  ['a/b', /must start with "\/"/],
  ['//', /ends with "\/"/],
  ['/a/', /ends with "\/"/],
  ['/a//b', /empty component/],
  ['/./a', /component "\." is not allowed/],
  ['/a/..', /component "\.\." is not allowed/],
  ['/a/../b', /component "\.\." is not allowed/],
  ['/a\u0000b', /NUL/],
  [`/${'a'.repeat(MAX_PATH_BYTES)}`, /4097 bytes of UTF-8, more than the limit of 4096/],
  [`/${'é'.repeat(MAX_PATH_BYTES / 2)}`, /4097 bytes/],
  ['/a/\uD800b', /lone surrogate/],
  ['/a/\uDC00', /lone surrogate/],
];

t.test('valid paths are accepted', (t) => {
  for (const path of valid) t.doesNotThrow(() => validatePath(path), `accepts ${JSON.stringify(path.slice(0, 40))}`);
  t.end();
});

t.test('invalid paths are rejected with BAD_PATH naming the path and the rule', (t) => {
  for (const [path, rule] of invalid) {
    t.throws(() => validatePath(path), { code: 'BAD_PATH', message: rule }, `rejects ${JSON.stringify(path.slice(0, 40))}`);
  }
  t.throws(() => validatePath('/a//b'), { message: /invalid path "\/a\/\/b"/ }, 'the message quotes the path');
  t.throws(() => validatePath(42 as unknown as string), { code: 'BAD_PATH', message: /expected a string/ });
  t.end();
});

t.test('a long invalid path is shortened in the message', (t) => {
  const path = `/${'x'.repeat(5000)}`;
  t.throws(() => validatePath(path), { message: /\.\.\. \(5001 characters\)/ });
  t.end();
});

t.test('parentPath and placementKey: a node is placed by its parent directory', (t) => {
  const table: Array<[string, string]> = [['/a/b/c', '/a/b'], ['/a', '/'], ['/locks/job-7/lock-0000000012', '/locks/job-7'], ['/a b/c', '/a b']];
  for (const [path, parent] of table) {
    t.equal(parentPath(path), parent, `parent of ${path}`);
    t.equal(placementKey(path), parent, `placement key of ${path}`);
  }
  t.equal(placementKey('/'), '/', 'the root is placed with its children');
  t.throws(() => parentPath('/'), { code: 'BAD_PATH', message: /root has no parent/ });
  t.throws(() => placementKey('/a/'), { code: 'BAD_PATH' });
  t.throws(() => parentPath('a/b'), { code: 'BAD_PATH' });
  t.end();
});

t.test('joinPath adds one valid component', (t) => {
  t.equal(joinPath('/', 'a'), '/a');
  t.equal(joinPath('/a/b', 'c'), '/a/b/c');
  t.throws(() => joinPath('/a', ''), { code: 'BAD_PATH', message: /is empty/ });
  t.throws(() => joinPath('/a', 'b/c'), { code: 'BAD_PATH', message: /contains "\/"/ });
  t.throws(() => joinPath('/a', '..'), { code: 'BAD_PATH', message: /not allowed/ });
  t.throws(() => joinPath('/a', 'x\u0000'), { code: 'BAD_PATH', message: /NUL/ });
  t.throws(() => joinPath('a', 'b'), { code: 'BAD_PATH', message: /must start with/ });
  t.throws(() => joinPath('/', 'x'.repeat(MAX_PATH_BYTES)), { code: 'BAD_PATH', message: /more than the limit/ });
  t.end();
});
