import { invariant } from '../../errors/codes.js';

/** zxid = epoch * 2^32 + counter, kept as a JS number: epoch < 2^21 keeps it an exact integer. */
export const ZXID_EPOCH_LIMIT = 2 ** 21;
const TWO_POW_32 = 2 ** 32;

export function isValidZxid(zxid: number): boolean {
  return Number.isSafeInteger(zxid) && zxid >= 0 && zxid < ZXID_EPOCH_LIMIT * TWO_POW_32;
}

/** 16 hex digits, zero padded, so file names that embed a zxid sort in zxid order. */
export function zxidToHex(zxid: number): string {
  invariant(isValidZxid(zxid), `zxid ${zxid} is not a valid zxid`);
  return zxid.toString(16).padStart(16, '0');
}

export function zxidFromHex(hex: string): number | undefined {
  if (!/^[0-9a-f]{16}$/.test(hex)) return undefined;
  const zxid = Number.parseInt(hex, 16);
  return isValidZxid(zxid) ? zxid : undefined;
}

/** Writes a zxid as an unsigned 64-bit little-endian integer. */
export function writeZxid(view: DataView, offset: number, zxid: number): void {
  view.setUint32(offset, zxid % TWO_POW_32, true);
  view.setUint32(offset + 4, Math.floor(zxid / TWO_POW_32), true);
}

/** Reads a u64 zxid; returns -1 when the high word is too large to be a zxid. */
export function readZxid(view: DataView, offset: number): number {
  const low = view.getUint32(offset, true);
  const high = view.getUint32(offset + 4, true);
  return high < ZXID_EPOCH_LIMIT ? high * TWO_POW_32 + low : -1;
}
