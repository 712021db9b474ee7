import t from 'tap';
import { decodeMessage, encodeMessage } from '../../net/codec.js';

t.test('integers up to ±2^53 decode to the same numbers', async (t) => {
  const values = [0, 1, -1, 255, 2 ** 31, 2 ** 32 + 1, 2 ** 40 + 3, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, 1.5];
  t.same(decodeMessage(encodeMessage(values)), values);
});

t.test('binary data decodes to a copy with the same bytes', async (t) => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
  const frame = encodeMessage({ bytes });
  const decoded = decodeMessage(frame) as { bytes: Uint8Array };
  t.ok(decoded.bytes instanceof Uint8Array);
  t.same(Array.from(decoded.bytes), Array.from(bytes));
  frame.fill(0);
  t.equal(decoded.bytes[299], 299 % 256, 'not a view into the frame');
});

t.test('nested objects, strings, null and booleans round trip', async (t) => {
  const message = { op: 'multi', ops: [{ path: '/a/ü', version: -1, data: null }, { ok: true }], epoch: 3 };
  t.same(decodeMessage(encodeMessage(message)), message);
});

t.test('truncated bytes fail with BAD_ARGUMENTS', async (t) => {
  t.throws(() => decodeMessage(Uint8Array.from([0x92, 0x01])), { name: 'ShardkvError', code: 'BAD_ARGUMENTS' }, 'a truncated array');
});
