/**
 * Node data in JSON: UTF-8 text when the bytes are valid UTF-8, else base64 (`encoding` says
 * which). Request bodies of the node routes carry the raw bytes instead; multi ops carry
 * `data` + `encoding` in JSON.
 */
import { isUtf8 } from 'node:buffer';
import { ShardkvError } from '../../errors/codes.js';

export type DataEncoding = 'utf8' | 'base64';

export function dataForJson(bytes: Uint8Array): { data: string; encoding: DataEncoding } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isUtf8(buffer) ? { data: buffer.toString('utf8'), encoding: 'utf8' } : { data: buffer.toString('base64'), encoding: 'base64' };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes of a JSON data field; BAD_ARGUMENTS for malformed base64. */
export function dataFromJson(data: string | undefined, encoding: DataEncoding | undefined, where: string): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (encoding === 'base64') {
    if (!BASE64.test(data)) throw new ShardkvError('BAD_ARGUMENTS', `${where}: data is not valid base64`);
    return Buffer.from(data, 'base64');
  }
  return Buffer.from(data, 'utf8');
}

/** DATA_TOO_LARGE (413) when `bytes` exceeds the limit. */
export function checkDataSize(bytes: Uint8Array, maxDataBytes: number, where: string): void {
  if (bytes.byteLength > maxDataBytes) {
    throw new ShardkvError('DATA_TOO_LARGE', `${where}: data is ${bytes.byteLength} bytes, more than the limit of ${maxDataBytes}`, {
      size_bytes: bytes.byteLength,
      limit_bytes: maxDataBytes,
    });
  }
}
