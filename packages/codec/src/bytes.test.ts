import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { propertyParameters } from "../test/support/seed";
import { outputBuffer, POOLED_FRAME_BYTES_MAX } from "./bytes";
import { decodeAppendEntry, encodeAppendEntry } from "./index";

/** Sizes that land in the small slab, the large slab and their own array. */
const sizeArb = fc.oneof(
  fc.integer({ min: 1, max: 4096 }),
  fc.integer({ min: 4097, max: POOLED_FRAME_BYTES_MAX }),
  fc.integer({ min: POOLED_FRAME_BYTES_MAX + 1, max: POOLED_FRAME_BYTES_MAX + 5000 }),
);

describe("outputBuffer", () => {
  it("hands out zeroed, aligned regions that never alias, across slab rollovers", () => {
    fc.assert(
      fc.property(fc.array(sizeArb, { minLength: 20, maxLength: 120 }), (sizes) => {
        const views = sizes.map((size) => outputBuffer(size, undefined));
        views.forEach((view, k) => {
          expect(view.length).toBe(sizes[k]);
          expect(view.byteOffset % 8).toBe(0);
          expect(view.every((b) => b === 0)).toBe(true);
          view.fill((k % 255) + 1);
        });
        // Every region still holds its own pattern: no later region overlapped it.
        views.forEach((view, k) => {
          expect(view.every((b) => b === (k % 255) + 1)).toBe(true);
        });
      }),
      propertyParameters(40),
    );
  });

  it("carves frames up to 4 KiB from a 64 KiB slab and up to 32 KiB from a 256 KiB slab", () => {
    expect(outputBuffer(4096, undefined).buffer.byteLength).toBe(64 * 1024);
    expect(outputBuffer(4097, undefined).buffer.byteLength).toBe(256 * 1024);
    expect(outputBuffer(32 * 1024, undefined).buffer.byteLength).toBe(256 * 1024);
    const own = outputBuffer(32 * 1024 + 1, undefined);
    expect(own.buffer.byteLength).toBe(32 * 1024 + 1);
    expect(own.byteOffset).toBe(0);
  });

  it("returns a prefix of the caller's buffer when it is large enough", () => {
    const mine = new Uint8Array(100);
    const out = outputBuffer(60, mine);
    expect(out.buffer).toBe(mine.buffer);
    expect(out.byteOffset).toBe(0);
    expect(out.length).toBe(60);
  });
});

describe("encodeAppendEntry into pooled memory", () => {
  it("keeps many live medium frames intact", () => {
    // Frames of 4–40 KB: both slabs and own arrays. All are encoded first, then each is checked,
    // so a later encode that reused an earlier frame's bytes shows up as a mismatch.
    const frameArb = fc.record({
      leader: fc.constant("S1Nunr6R"),
      term: fc.nat({ max: 1000 }),
      commit: fc.nat({ max: 1000 }),
      pterm: fc.nat({ max: 1000 }),
      pindex: fc.nat({ max: 1000 }),
      lterm: fc.nat({ max: 1000 }),
      entries: fc.array(
        // Cheap to generate: a length and a fill byte, distinct enough to show any overlap.
        fc
          .tuple(fc.integer({ min: 1000, max: 4000 }), fc.integer({ min: 0, max: 255 }))
          .map(([length, fill]) => ({ type: 0 as const, data: new Uint8Array(length).fill(fill) })),
        { minLength: 4, maxLength: 10 },
      ),
    });
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 10, maxLength: 40 }), (frames) => {
        const encoded = frames.map((ae) => encodeAppendEntry(ae));
        encoded.forEach((bytes, k) => {
          const frame = frames[k] as (typeof frames)[number];
          const { entries, ...header } = decodeAppendEntry(bytes);
          const { entries: sent, ...sentHeader } = frame;
          expect(header).toEqual(sentHeader);
          expect(entries.length).toBe(sent.length);
          // Byte-wise comparison in plain code: deep equality on tens of KB per frame is slow.
          entries.forEach((entry, e) => {
            const want = (sent[e] as (typeof sent)[number]).data;
            expect(entry.type).toBe(0);
            expect(
              entry.data.length === want.length && entry.data.every((b, i) => b === want[i]),
            ).toBe(true);
          });
        });
      }),
      propertyParameters(10),
    );
  });
});
