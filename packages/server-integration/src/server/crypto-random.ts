import { randomFillSync } from "node:crypto";
import type { RandomSource } from "@raft/codec";

/**
 * The default {@link RandomSource}: `node:crypto`, refilled 256 values at a time so that election
 * timeouts and inbox names do not cost a system call each.
 */
export function createCryptoRandom(): RandomSource {
  const buffer = new Uint32Array(256);
  let next = buffer.length;
  return {
    nextUint32(): number {
      if (next === buffer.length) {
        randomFillSync(buffer);
        next = 0;
      }
      return buffer[next++] as number;
    },
  };
}
