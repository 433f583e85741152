import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { viewOf } from "./bytes";
import { crc32c, crc32cView } from "./crc32c";

function crcBitwise(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

// Inputs up to 3,000 bytes at any offset inside a larger buffer: covers the 16-byte loop, the
// byte tail, the DataView path `crc32c` takes from 1 KiB on, and unaligned word loads.
const sliceArb = fc
  .tuple(fc.uint8Array({ maxLength: 3000, size: "max" }), fc.nat({ max: 7 }), fc.nat({ max: 3000 }))
  .map(([bytes, lead, cut]) => {
    const host = new Uint8Array(lead + bytes.length + 5);
    host.set(bytes, lead);
    return { bytes: host.subarray(lead, lead + bytes.length), cut: Math.min(cut, bytes.length) };
  });

describe("crc32cView", () => {
  test.prop([sliceArb], { numRuns: 200 })(
    "equals crc32c and the bitwise definition on any range",
    ({ bytes, cut }) => {
      const view = viewOf(bytes);
      const expected = crcBitwise(bytes);
      expect(crc32c(bytes)).toBe(expected);
      expect(crc32cView(bytes, view, 0, bytes.length)).toBe(expected);
      expect(crc32cView(bytes, view, cut, bytes.length, crc32cView(bytes, view, 0, cut))).toBe(
        expected,
      );
      expect(crc32c(bytes, cut, bytes.length, crc32c(bytes, 0, cut))).toBe(expected);
    },
  );
});
