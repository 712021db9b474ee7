import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invariant, ShardkvError } from '../../errors/codes.js';
import { loadChecksum, type Checksum } from './checksum.js';
import { writeFileAtomic } from './durable-fs.js';
import { ZXID_EPOCH_LIMIT } from './zxid.js';

/** ZAB's two persisted epochs: the last NEWEPOCH accepted, and the last NEWLEADER acknowledged. */
export interface Epochs {
  acceptedEpoch: number;
  currentEpoch: number;
}

/* Format (24 bytes, little endian): magic "SKVEPOCH" | acceptedEpoch u32 | currentEpoch u32 | xxh64(bytes 0..16) u64 */
const MAGIC = new TextEncoder().encode('SKVEPOCH');
const FILE_BYTES = 24;
const FILE_NAME = 'epochs';

/** The epoch file of a replica, replaced atomically on every update (temp, fsync, rename, fsync dir). */
export class EpochFile {
  private constructor(
    readonly path: string,
    private readonly checksum: Checksum,
    private current: Epochs,
  ) {}

  /** Opens `<dir>/epochs`; both epochs are 0 when it does not exist yet. */
  static async open(dir: string): Promise<EpochFile> {
    const checksum = await loadChecksum();
    const path = join(dir, FILE_NAME);
    let bytes: Uint8Array | undefined;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const epochs = bytes === undefined ? { acceptedEpoch: 0, currentEpoch: 0 } : decodeEpochs(checksum, path, bytes);
    return new EpochFile(path, checksum, epochs);
  }

  get epochs(): Epochs {
    return { ...this.current };
  }

  /** Persists new epochs; neither may go backwards, and currentEpoch never exceeds acceptedEpoch. */
  async write(next: Epochs): Promise<void> {
    for (const value of [next.acceptedEpoch, next.currentEpoch]) {
      invariant(Number.isInteger(value) && value >= 0 && value < ZXID_EPOCH_LIMIT, `epoch ${value} is valid`);
    }
    invariant(next.currentEpoch <= next.acceptedEpoch, 'currentEpoch <= acceptedEpoch');
    invariant(next.acceptedEpoch >= this.current.acceptedEpoch, 'acceptedEpoch never goes backwards');
    invariant(next.currentEpoch >= this.current.currentEpoch, 'currentEpoch never goes backwards');
    const bytes = new Uint8Array(FILE_BYTES);
    const view = new DataView(bytes.buffer);
    bytes.set(MAGIC, 0);
    view.setUint32(8, next.acceptedEpoch, true);
    view.setUint32(12, next.currentEpoch, true);
    view.setBigUint64(16, this.checksum(bytes.subarray(0, 16)), true);
    await writeFileAtomic(this.path, bytes);
    this.current = { ...next };
  }
}

function decodeEpochs(checksum: Checksum, path: string, bytes: Uint8Array): Epochs {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const valid =
    bytes.byteLength === FILE_BYTES &&
    MAGIC.every((byte, index) => bytes[index] === byte) &&
    view.getBigUint64(16, true) === checksum(bytes.subarray(0, 16));
  // Written by rename, the file is whole or absent: a bad one is disk corruption, not a crash.
  if (!valid) throw new ShardkvError('CORRUPT_LOG', `corrupt epoch file ${path}`, { file: path, offset: 0 });
  return { acceptedEpoch: view.getUint32(8, true), currentEpoch: view.getUint32(12, true) };
}
