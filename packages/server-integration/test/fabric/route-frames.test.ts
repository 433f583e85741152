import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { FabricError } from "../../src/fabric/fabric-error";
import type { RouteFrame } from "../../src/fabric/route-frames";
import {
  decodeRouteFrame,
  encodeMsgFrame,
  encodeRouteFrame,
  msgFrameLength,
  ROUTE_MAGIC,
  RouteFrameReader,
  RouteOp,
} from "../../src/fabric/route-frames";
import { bytes } from "./helpers";

const token = fc.stringMatching(/^[A-Za-z0-9_$-]{1,8}$/);
const subjectArb = fc.array(token, { minLength: 1, maxLength: 5 }).map((t) => t.join("."));
const patternArb = fc
  .array(fc.oneof(token, fc.constant("*")), { minLength: 1, maxLength: 5 })
  .chain((t) => fc.constantFrom(t.join("."), `${t.join(".")}.>`));

const frameArb: fc.Arbitrary<RouteFrame> = fc.oneof(
  fc.record({
    op: fc.constant(RouteOp.Hello),
    version: fc.integer({ min: 0, max: 255 }),
    serverName: fc.string({ minLength: 1, maxLength: 20 }),
    clusterName: fc.string({ maxLength: 20 }),
  }),
  fc.record({ op: fc.constant(RouteOp.Sub), subject: patternArb }),
  fc.record({ op: fc.constant(RouteOp.Unsub), subject: patternArb }),
  fc.record({
    op: fc.constant(RouteOp.Msg),
    subject: subjectArb,
    reply: fc.option(subjectArb, { nil: undefined }),
    data: fc.uint8Array({ maxLength: 300 }),
  }),
  fc.constant({ op: RouteOp.Ping }),
  fc.constant({ op: RouteOp.Pong }),
  fc.record({ op: fc.constant(RouteOp.Err), message: fc.string({ maxLength: 40 }) }),
);

/** Cuts `stream` at the given offsets (sorted, deduplicated, in range). */
function split(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(stream.subarray(from, p));
    from = p;
  }
  chunks.push(stream.subarray(from));
  return chunks;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof FabricError ? err.code : `foreign: ${String(err)}`;
  }
  return undefined;
}

describe("route frames", () => {
  test.prop([fc.array(frameArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 })])(
    "decode(encode(frames)) returns the frames however the stream is chunked",
    (frames, cuts) => {
      const reader = new RouteFrameReader(1 << 20);
      const stream = concat(frames.map(encodeRouteFrame));
      const decoded = split(stream, cuts).flatMap((chunk) => reader.push(chunk));
      expect(decoded).toEqual(frames);
      expect(reader.midFrame).toBe(false);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 10 })])(
    "a reader fed arbitrary bytes returns frames or throws only FabricError",
    (garbage, cuts) => {
      const reader = new RouteFrameReader(4096);
      const code = codeOf(() => {
        for (const chunk of split(garbage, cuts)) reader.push(chunk);
      });
      expect(code === undefined || !code.startsWith("foreign")).toBe(true);
    },
  );

  test.prop([fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 })])(
    "decoding any op and body yields a frame or a FabricError",
    (op, body) => {
      const code = codeOf(() => decodeRouteFrame(op, body));
      expect(code === undefined || ["BAD_FRAME", "UNKNOWN_OP"].includes(code)).toBe(true);
    },
  );

  it("lays out a MSG frame as documented", () => {
    const frame = encodeRouteFrame({
      op: RouteOp.Msg,
      subject: "a.b",
      reply: "r",
      data: bytes("hi"),
    });
    // length(u32 LE) = op(1) + 2+3 + 2+1 + 2 = 11
    expect([...frame]).toEqual([11, 0, 0, 0, 4, 3, 0, 97, 46, 98, 1, 0, 114, 104, 105]);
  });

  it("lays out HELLO with the magic, version, name and cluster", () => {
    const frame = encodeRouteFrame({
      op: RouteOp.Hello,
      version: 1,
      serverName: "n1",
      clusterName: "c",
    });
    expect([...frame.subarray(4, 10)]).toEqual([1, ...ROUTE_MAGIC, 1]);
    expect([...frame.subarray(10)]).toEqual([2, 0, 110, 49, 1, 0, 99]);
  });

  it("rejects an oversized declared length before buffering it", () => {
    const reader = new RouteFrameReader(100);
    expect(codeOf(() => reader.push(Uint8Array.of(101, 0, 0, 0)))).toBeUndefined();
    expect(codeOf(() => reader.push(Uint8Array.of(RouteOp.Msg)))).toBe("FRAME_TOO_LARGE");
    expect(
      codeOf(() => new RouteFrameReader(100).push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 4))),
    ).toBe("FRAME_TOO_LARGE");
  });

  it("names what is wrong with malformed frames", () => {
    const reader = (): RouteFrameReader => new RouteFrameReader(1000);
    expect(codeOf(() => reader().push(Uint8Array.of(0, 0, 0, 0, 0)))).toBe("BAD_FRAME");
    expect(codeOf(() => reader().push(Uint8Array.of(1, 0, 0, 0, 99)))).toBe("UNKNOWN_OP");
    // MSG whose subject length runs past the end of the frame.
    expect(codeOf(() => reader().push(Uint8Array.of(4, 0, 0, 0, 4, 50, 0, 97)))).toBe("BAD_FRAME");
    // PING with a body.
    expect(codeOf(() => reader().push(Uint8Array.of(2, 0, 0, 0, 5, 0)))).toBe("BAD_FRAME");
    // SUB with invalid UTF-8 and with an invalid pattern.
    expect(codeOf(() => reader().push(Uint8Array.of(4, 0, 0, 0, 2, 1, 0, 0xff)))).toBe("BAD_FRAME");
    expect(codeOf(() => reader().push(Uint8Array.of(5, 0, 0, 0, 2, 2, 0, 97, 46)))).toBe(
      "BAD_FRAME",
    );
    // HELLO with the wrong magic.
    const hello = encodeRouteFrame({
      op: RouteOp.Hello,
      version: 1,
      serverName: "x",
      clusterName: "",
    });
    hello[5] = 0;
    expect(codeOf(() => reader().push(hello))).toBe("BAD_FRAME");
  });

  it("reports a partial frame as mid-frame", () => {
    const reader = new RouteFrameReader(1000);
    const ping = encodeRouteFrame({ op: RouteOp.Ping });
    expect(reader.push(ping.subarray(0, 3))).toEqual([]);
    expect(reader.midFrame).toBe(true);
    expect(reader.push(ping.subarray(3))).toEqual([{ op: RouteOp.Ping }]);
    expect(reader.midFrame).toBe(false);
  });
});

describe("msgFrameLength", () => {
  test.prop([
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.option(fc.string({ unit: "binary", maxLength: 20 }), { nil: undefined }),
    fc.nat(1000),
  ])(
    "equals the encoded MSG frame's length field, with strings written as UTF-8",
    (subject, reply, n) => {
      const frame = encodeMsgFrame(subject, reply, new Uint8Array(n));
      expect(msgFrameLength(subject, reply, n)).toBe(frame.length - 4);
      // The in-place string writer agrees with TextEncoder, ASCII or not.
      const subjectBytes = new TextEncoder().encode(subject);
      expect((frame[5] ?? 0) | ((frame[6] ?? 0) << 8)).toBe(subjectBytes.length);
      expect(frame.subarray(7, 7 + subjectBytes.length)).toEqual(subjectBytes);
    },
  );
});
