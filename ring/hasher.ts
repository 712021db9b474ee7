/**
 * The ring's hash function: xxh64 with seed 0 over the UTF-8 bytes of a placement key.
 * xxhash-wasm needs an async start-up, so a RingHasher is made once by `await RingHasher.create()`
 * and handed to rings, which stay synchronous and pure.
 */
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

const SEED = 0n;

export class RingHasher {
  private readonly api: XXHashAPI;

  private constructor(api: XXHashAPI) {
    this.api = api;
  }

  static async create(): Promise<RingHasher> {
    return new RingHasher(await xxhash());
  }

  /** xxh64 (seed 0) of the UTF-8 encoding of `key`, as an unsigned 64-bit bigint. */
  hash(key: string): bigint {
    return this.api.h64(key, SEED);
  }

  /** xxh64 (seed 0) of raw bytes; equals hash(key) for the UTF-8 bytes of key. */
  hashBytes(bytes: Uint8Array): bigint {
    return this.api.h64Raw(bytes, SEED);
  }
}
