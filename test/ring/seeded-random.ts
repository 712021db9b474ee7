/** A small seeded PRNG (mulberry32) for reproducible test samples; never Math.random. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** A uniformly random 64-bit value. */
  nextHash(): bigint {
    return (BigInt(this.nextUint32()) << 32n) | BigInt(this.nextUint32());
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    return Math.floor((this.nextUint32() / 2 ** 32) * bound);
  }
}
