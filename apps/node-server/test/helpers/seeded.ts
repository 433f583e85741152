/**
 * Seeded randomness for property tests. fast-check is not a dependency of this app (the app may
 * not add dependencies), so properties draw their inputs from this xorshift generator instead.
 * Every run derives from one base seed, printed on failure; replay with `SEED=<seed>`.
 */

/** The base seed of this test process (from `SEED`, or random). */
export const SEED: number = Number(process.env["SEED"] ?? Math.floor(Math.random() * 2 ** 31));

/** A generator of floats in [0, 1). */
export type Rng = () => number;

/** A xorshift32 generator from `seed`. */
export function prng(seed: number): Rng {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** An integer in [lo, hi]. */
export function int(next: Rng, lo: number, hi: number): number {
  return lo + Math.floor(next() * (hi - lo + 1));
}

/** One element of `items`. */
export function pick<T>(next: Rng, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)] as T;
}

/**
 * Runs `property` `runs` times, each with a generator seeded from {@link SEED} and the run number.
 * A failure is rethrown naming the seed and the run, so that `SEED=<seed>` replays it exactly.
 */
export function forAll(runs: number, property: (next: Rng, run: number) => void): void {
  for (let run = 0; run < runs; run++) {
    try {
      property(prng(SEED + run * 7919), run);
    } catch (error) {
      const message = `property failed with SEED=${SEED} at run ${run} (replay: SEED=${SEED})`;
      console.error(message);
      throw new Error(`${message}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }
}
