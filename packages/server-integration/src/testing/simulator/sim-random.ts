import type { RandomSource } from "@raft/codec";
import { Prng } from "@raft/wal/testing";

/**
 * The simulator's randomness: one seeded PRNG per concern (network, faults, each node, each
 * client), all forked from the run's seed, so that adding draws to one concern does not shift the
 * choices of another more than necessary.
 */
export class SimRandom {
  readonly #prng: Prng;

  /** @param seed - any 32-bit integer. */
  constructor(seed: number) {
    this.#prng = new Prng(seed);
  }

  /** A float in `[0, 1)`. */
  next(): number {
    return this.#prng.next();
  }

  /** An unsigned 32-bit integer. */
  u32(): number {
    return this.#prng.nextU32();
  }

  /** An integer in `[0, n)`; `n ≥ 1`. */
  int(n: number): number {
    return this.#prng.int(n);
  }

  /** An integer in `[min, max]`. */
  between(min: number, max: number): number {
    return min + this.#prng.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.#prng.chance(p);
  }

  /** A uniformly chosen element; `items` must not be empty. */
  pick<T>(items: readonly T[]): T {
    return items[this.#prng.int(items.length)] as T;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.#prng.int(i + 1);
      const t = out[i] as T;
      out[i] = out[j] as T;
      out[j] = t;
    }
    return out;
  }

  /** A child generator seeded from this one. */
  fork(): SimRandom {
    return new SimRandom(this.#prng.nextU32());
  }

  /** This generator as the `RandomSource` port of `@raft/codec` (servers, inboxes). */
  asSource(): RandomSource {
    return { nextUint32: (): number => this.#prng.nextU32() };
  }
}
