import { invariant } from '../../errors/codes.js';
import type { Checksum } from './checksum.js';
import { isValidZxid, readZxid, writeZxid } from './zxid.js';

/** One transaction in the log. The payload is an encoded transaction, opaque to storage. */
export interface LogRecord {
  zxid: number;
  payload: Uint8Array;
}

/**
 * On disk a record is `[payload length u32][xxh64 u64][zxid u64][payload]`, little endian;
 * the checksum covers the zxid and the payload (bytes 12 .. end of record).
 */
export const RECORD_HEADER_BYTES = 20;
const CHECKSUMMED_FROM = 12;

/** A length above this is garbage, not a record (a transaction is bounded far below it). */
export const MAX_PAYLOAD_BYTES = 256 * 2 ** 20;

export function encodedSize(record: LogRecord): number {
  return RECORD_HEADER_BYTES + record.payload.byteLength;
}

/** Encodes records into one contiguous buffer (one write for a whole group commit). */
export function encodeRecords(checksum: Checksum, records: readonly LogRecord[]): Uint8Array {
  let total = 0;
  for (const record of records) total += encodedSize(record);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const record of records) {
    invariant(isValidZxid(record.zxid) && record.zxid > 0, `record zxid ${record.zxid} is not a valid zxid`);
    invariant(record.payload.byteLength <= MAX_PAYLOAD_BYTES, `record payload of ${record.payload.byteLength} bytes is too large`);
    view.setUint32(at, record.payload.byteLength, true);
    writeZxid(view, at + CHECKSUMMED_FROM, record.zxid);
    bytes.set(record.payload, at + RECORD_HEADER_BYTES);
    const end = at + RECORD_HEADER_BYTES + record.payload.byteLength;
    view.setBigUint64(at + 4, checksum(bytes.subarray(at + CHECKSUMMED_FROM, end)), true);
    at = end;
  }
  return bytes;
}

export type DecodedRecord =
  | { status: 'ok'; zxid: number; payload: Uint8Array; end: number }
  /** The bytes end before the record does: a torn write if it is the tail. */
  | { status: 'short' }
  /** The bytes are there but are not a record (bad length, zxid or checksum). */
  | { status: 'bad' };

/** Decodes the record at `offset`; the payload is a view into `bytes`, not a copy. */
export function decodeRecordAt(
  checksum: Checksum,
  bytes: Uint8Array,
  offset: number,
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
): DecodedRecord {
  if (bytes.byteLength - offset < RECORD_HEADER_BYTES) return { status: 'short' };
  const length = view.getUint32(offset, true);
  if (length > MAX_PAYLOAD_BYTES) return { status: 'bad' };
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > bytes.byteLength) return { status: 'short' };
  const zxid = readZxid(view, offset + CHECKSUMMED_FROM);
  if (zxid <= 0) return { status: 'bad' };
  if (view.getBigUint64(offset + 4, true) !== checksum(bytes.subarray(offset + CHECKSUMMED_FROM, end))) {
    return { status: 'bad' };
  }
  return { status: 'ok', zxid, payload: bytes.subarray(offset + RECORD_HEADER_BYTES, end), end };
}

/** True when some whole, checksum-valid record starts anywhere in `bytes` at or after `from`. */
export function containsValidRecordFrom(checksum: Checksum, bytes: Uint8Array, from: number): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = from; at + RECORD_HEADER_BYTES <= bytes.byteLength; at += 1) {
    if (decodeRecordAt(checksum, bytes, at, view).status === 'ok') return true;
  }
  return false;
}
