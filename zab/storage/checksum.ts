import xxhash from 'xxhash-wasm';

/** xxh64 of a byte range; every on-disk structure of zab/storage is checked with it. */
export type Checksum = (bytes: Uint8Array) => bigint;

let loading: Promise<Checksum> | undefined;

/** Loads the xxhash WebAssembly module once per process and returns its raw xxh64. */
export function loadChecksum(): Promise<Checksum> {
  loading ??= xxhash().then((api) => (bytes: Uint8Array) => api.h64Raw(bytes));
  return loading;
}
