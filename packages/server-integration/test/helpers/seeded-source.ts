import type { RandomSource } from "@raft/codec";

/** A seeded {@link RandomSource} (mulberry32) for deterministic tests. */
export function seededSource(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    nextUint32(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    },
  };
}
