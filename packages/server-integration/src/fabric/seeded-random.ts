import type { RandomFloat } from "./types";

/**
 * A small seeded PRNG (mulberry32) returning floats in `[0, 1)`. Same seed, same sequence, on every
 * platform. Good enough for fault injection and jitter; not for cryptography.
 */
export function createSeededRandom(seed: number): RandomFloat {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
