import { Packr } from 'msgpackr';
import { ShardkvError } from '../errors/codes.js';

/**
 * The one wire codec of shardkv: msgpack via msgpackr. Every message on every transport
 * (NATS and in-process) goes through encodeMessage/decodeMessage, so both behave the same.
 *
 * - `useRecords: false`: msgpackr's record extension needs structure tables shared by
 *   sender and receiver; processes do not share them, so plain msgpack maps are used.
 * - `copyBuffers: true`: decoded binary values are copies, not views into the received
 *   frame, so a small value kept in the tree does not pin a whole network buffer.
 *
 * Round trips: plain objects, arrays, strings, booleans, null, undefined, integers up to
 * ±2^53 (wider than 32 bits they travel as float64, which holds them exactly), floats,
 * and binary data. Binary data (Uint8Array or Buffer) is decoded as a Node Buffer, which
 * is a Uint8Array. bigint, Map (decoded as an object) and class instances are not part
 * of the message model.
 */
const packr = new Packr({ useRecords: false, copyBuffers: true });

export function encodeMessage(message: unknown): Uint8Array {
  try {
    return packr.pack(message);
  } catch (err) {
    throw new ShardkvError('BAD_ARGUMENTS', `message cannot be encoded: ${(err as Error).message}`);
  }
}

export function decodeMessage(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw new ShardkvError('BAD_ARGUMENTS', `message cannot be decoded (${bytes.length} bytes): ${(err as Error).message}`);
  }
}
