import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { viewOf } from "../src/bytes";
import { crc32c } from "../src/crc32c";
import { decodeMark, encodeMark, MARK_SLOT_BYTES, newestMark } from "../src/durable-mark";
import { decodeHeader, encodeRecord, RECORD_HEADER_BYTES } from "../src/record-format";
import { scanSegment } from "../src/segment-scan";
import { decodeSnapshot, encodeSnapshot } from "../src/snapshot-file";
import { decodeState, encodeState } from "../src/state-file";

function crcBitwise(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

function segmentOf(items: { term: number; data: Uint8Array }[], base: number): Uint8Array {
  const total = items.reduce((n, r) => n + RECORD_HEADER_BYTES + r.data.length, 0);
  const bytes = new Uint8Array(total);
  const view = viewOf(bytes);
  let offset = 0;
  items.forEach((r, k) => {
    offset += encodeRecord(
      bytes,
      view,
      offset,
      { index: base + k, term: r.term, data: r.data },
      base,
    );
  });
  return bytes;
}

const recordsArb = fc.array(
  fc.record({ term: fc.nat({ max: 1000 }), data: fc.uint8Array({ maxLength: 40 }) }),
  { maxLength: 12 },
);

describe("crc32c", () => {
  it("matches the published check values", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });

  test.prop([fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 300 })])(
    "equals the bitwise definition and can continue from a seed",
    (bytes, cut) => {
      const at = Math.min(cut, bytes.length);
      expect(crc32c(bytes)).toBe(crcBitwise(bytes));
      expect(crc32c(bytes, at, bytes.length, crc32c(bytes, 0, at))).toBe(crc32c(bytes));
    },
  );
});

describe("record format", () => {
  test.prop([recordsArb, fc.integer({ min: 1, max: 2 ** 40 })])(
    "round-trips through scanSegment",
    (items, base) => {
      const scan = scanSegment(segmentOf(items, base), base);
      expect(scan.tailDamageOffset).toBeUndefined();
      expect(scan.nextIndex).toBe(base + items.length);
      expect(scan.items.map((i) => (i.kind === "record" ? [i.header.term, i.intact] : []))).toEqual(
        items.map((r) => [r.term, true]),
      );
    },
  );

  test.prop([fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 1000 })])(
    "scanSegment never throws on random bytes and reports indexes in order",
    (bytes, base) => {
      const scan = scanSegment(bytes, base);
      let next = base;
      for (const item of scan.items) {
        const from = item.kind === "record" ? item.header.index : item.fromIndex;
        expect(from).toBe(next);
        next = item.kind === "record" ? from + 1 : item.toIndex;
      }
      expect(scan.nextIndex).toBe(next);
    },
  );

  test.prop([recordsArb.filter((r) => r.length >= 3), fc.nat(), fc.nat({ max: 7 })])(
    "a flipped bit in any but the last record yields exactly one damaged index",
    (items, where, bit) => {
      const bytes = segmentOf(items, 1);
      const lastStart = bytes.length - RECORD_HEADER_BYTES - (items.at(-1)?.data.length ?? 0);
      const at = where % lastStart;
      bytes[at] = (bytes[at] as number) ^ (1 << bit);
      const scan = scanSegment(bytes, 1);
      const damaged = scan.items.flatMap((i) =>
        i.kind === "record"
          ? i.intact
            ? []
            : [i.header.index]
          : Array.from({ length: i.toIndex - i.fromIndex }, (_, k) => i.fromIndex + k),
      );
      expect(damaged).toHaveLength(1);
      expect(scan.nextIndex).toBe(1 + items.length);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 80 }), fc.nat({ max: 80 })])(
    "decodeHeader never throws on random bytes",
    (bytes, offset) => {
      decodeHeader(bytes, viewOf(bytes), offset);
    },
  );
});

describe("state and snapshot files", () => {
  test.prop([fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 2 ** 50 })])(
    "state copies round-trip",
    (payload, seq) => {
      const decoded = decodeState(encodeState(3, seq, payload), 3);
      expect(decoded?.seq).toBe(seq);
      expect([...(decoded?.payload ?? [])]).toEqual([...payload]);
      expect(decodeState(encodeState(3, seq, payload), 2)).toBeUndefined();
    },
  );

  test.prop([fc.uint8Array({ maxLength: 1200 })])(
    "decoders never throw on random bytes",
    (bytes) => {
      decodeState(bytes, 1);
      decodeSnapshot(bytes);
      newestMark(bytes);
    },
  );

  test.prop([
    fc.integer({ min: 1, max: 2 ** 50 }),
    fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    fc.nat({ max: 2 ** 40 }),
    fc.nat({ max: 35 }),
    fc.nat({ max: 7 }),
  ])(
    "durable mark slots round-trip and any flipped bit is detected",
    (seq, index, term, at, bit) => {
      const bytes = encodeMark({ seq, index, term });
      expect(decodeMark(bytes, 0)).toEqual({ seq, index, term });
      bytes[at] = (bytes[at] as number) ^ (1 << bit);
      expect(decodeMark(bytes, 0)).toBeUndefined();
    },
  );

  it("takes the newest valid mark slot at any slot-aligned offset", () => {
    const file = new Uint8Array(3 * MARK_SLOT_BYTES);
    file.set(encodeMark({ seq: 7, index: 70, term: 2 }), 0);
    file.set(encodeMark({ seq: 8, index: 80, term: 2 }), MARK_SLOT_BYTES);
    file.set(encodeMark({ seq: 9, index: 90, term: 3 }), 2 * MARK_SLOT_BYTES);
    expect(newestMark(file)).toEqual({ seq: 9, index: 90, term: 3 });
    file[2 * MARK_SLOT_BYTES + 20] = 0xff;
    expect(newestMark(file)).toEqual({ seq: 8, index: 80, term: 2 });
  });

  test.prop([
    fc.uint8Array({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 200 }),
    fc.nat(),
    fc.nat({ max: 7 }),
  ])("snapshots round-trip and any flipped bit is detected", (peerState, data, where, bit) => {
    const bytes = encodeSnapshot({ term: 4, index: 9, peerState, data });
    const decoded = decodeSnapshot(bytes);
    expect([decoded?.term, decoded?.index]).toEqual([4, 9]);
    expect([...(decoded?.data ?? [])]).toEqual([...data]);
    const at = where % bytes.length;
    bytes[at] = (bytes[at] as number) ^ (1 << bit);
    expect(decodeSnapshot(bytes)).toBeUndefined();
  });
});
