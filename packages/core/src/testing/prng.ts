import type { RandomSource } from "@raft/codec";

/**
 * A small seeded PRNG (sfc32) for tests, simulations and benchmarks: same seed, same sequence.
 * Implements {@link RandomSource}, so it can be handed to a node directly.
 */
export class Prng implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed - any integer; 0 is fine. */
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.nextUint32() % n;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }
}
