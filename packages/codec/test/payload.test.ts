import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CodecError, decodePayload, encodePayload } from "../src/index";
import { propertyParameters } from "./support/seed";

/** JSON-like values plus binary, which is what upper layers replicate. */
const valueArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    // MessagePack has no −0 distinct from 0 in msgpackr's integer path, so −0 is left out.
    fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)),
    fc.string(),
    fc.uint8Array({ maxLength: 32 }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(
      fc.string().filter((key) => key !== "__proto__"),
      tie("value"),
      { maxKeys: 5 },
    ),
  ),
})).value;

describe("payload helpers", () => {
  it("round-trip JSON-like values and binary", () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const bytes = encodePayload(value);
        expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
        expect(decodePayload(bytes)).toEqual(value);
      }),
      propertyParameters(300),
    );
  });

  it("returns plain Uint8Arrays for binary values and owns them", () => {
    const data = new Uint8Array([1, 2, 3]);
    const bytes = encodePayload({ op: "put", data });
    const decoded = decodePayload(bytes) as { op: string; data: Uint8Array };
    expect(Object.getPrototypeOf(decoded.data)).toBe(Uint8Array.prototype);
    expect(Array.from(decoded.data)).toEqual([1, 2, 3]);
    bytes.fill(0);
    expect(Array.from(decoded.data)).toEqual([1, 2, 3]);
  });

  it("reads only its view of a larger buffer and leaves the input object alone", () => {
    const payload = encodePayload({ name: "x".repeat(40), list: [1, 2, 3] });
    // Garbage before and after the view: a decoder that looks past the view would trip on it.
    const backing = new Uint8Array(payload.length + 64).fill(0xc1);
    backing.set(payload, 32);
    const view = backing.subarray(32, 32 + payload.length);
    expect(decodePayload(view)).toEqual({ name: "x".repeat(40), list: [1, 2, 3] });
    expect("dataView" in view).toBe(false);
  });

  it("returns a fresh array for each encode", () => {
    const first = encodePayload({ a: 1 });
    const copy = Uint8Array.from(first);
    encodePayload({ b: "x".repeat(100) });
    expect(first).toEqual(copy);
  });

  it("rejects empty, truncated and trailing-garbage input with BAD_PAYLOAD", () => {
    const good = encodePayload({ key: "value", n: 42 });
    const cases = [
      new Uint8Array(),
      good.subarray(0, good.length - 1),
      Uint8Array.from([...good, 0x00]),
      Uint8Array.from([0xc1]), // 0xc1 is never used in MessagePack
      Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32 of 2^32 − 1 elements, no body
      Uint8Array.from([0x92, 0xc1, 0x01]), // 0xc1 nested in an array
      Uint8Array.from([0xd4, 0x72, 0x00]), // fixext 1 of msgpackr's record type 0x72
      Uint8Array.from([0xd6, 0x69, 0, 0, 0, 0]), // msgpackr's structured-clone id extension
      Uint8Array.from([0x81, 0x91, 0x01, 0x02]), // map with an array key
    ];
    for (const bytes of cases) {
      try {
        decodePayload(bytes);
        throw new Error(`accepted ${Array.from(bytes)}`);
      } catch (error) {
        expect(error).toBeInstanceOf(CodecError);
        expect((error as CodecError).code).toBe("BAD_PAYLOAD");
      }
    }
  });

  it("rejects values msgpackr cannot encode with BAD_PAYLOAD", () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(() => encodePayload(cyclic)).toThrow(CodecError);
    expect(() => encodePayload(2n ** 64n)).toThrow(CodecError);
    expect(() => encodePayload(Symbol("x"))).toThrow(CodecError);
  });

  it("decodes a map with an integer key as an object with a string key", () => {
    expect(decodePayload(Uint8Array.from([0x81, 0x01, 0x02]))).toEqual({ "1": 2 });
  });

  it("never sets an object's prototype from a __proto__ key", () => {
    // fixmap 1 · fixstr "__proto__" · map { polluted: true }
    const bytes = encodePayload(JSON.parse('{"__proto__":{"polluted":true}}'));
    const decoded = decodePayload(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(["__proto_"]);
    expect("polluted" in {}).toBe(false);
  });

  it("decodes dates, undefined and 64-bit integers", () => {
    const value = { at: new Date(1_700_000_000_123), gone: undefined, big: 2n ** 63n - 1n };
    expect(decodePayload(encodePayload(value))).toEqual(value);
  });

  it("rejects deeply nested input with BAD_PAYLOAD instead of overflowing the stack", () => {
    // 200,000 nested one-element arrays around a 0: valid MessagePack, too deep for msgpackr.
    const depth = 200_000;
    const bytes = new Uint8Array(depth + 1).fill(0x91);
    bytes[depth] = 0x00;
    expect(() => decodePayload(bytes)).toThrow(CodecError);
  });

  it("throws only CodecError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodePayload(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
          expect((error as CodecError).code).toBe("BAD_PAYLOAD");
        }
      }),
      propertyParameters(2000),
    );
  });

  it("throws only CodecError on mutated payloads", () => {
    fc.assert(
      fc.property(
        valueArb,
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        (value, flips, cut) => {
          const bytes = Uint8Array.from(encodePayload(value));
          for (const bit of flips) {
            const index = Math.floor(bit / 8) % bytes.length;
            bytes[index] = (bytes[index] as number) ^ (1 << (bit % 8));
          }
          try {
            decodePayload(bytes.subarray(0, bytes.length - (cut % 2)));
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
          }
        },
      ),
      propertyParameters(1000),
    );
  });
});
