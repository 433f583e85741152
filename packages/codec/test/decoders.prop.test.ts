import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CodecError,
  type Dialect,
  decodeAppendEntry,
  decodeAppendEntryResponse,
  decodeNodeIdPayload,
  decodePeerState,
  decodeReply,
  decodeVoteRequest,
  decodeVoteResponse,
  encodeAppendEntry,
  encodeAppendEntryResponse,
  encodeNodeIdPayload,
  encodePeerState,
  encodeVoteRequest,
  encodeVoteResponse,
  isNodeId,
} from "../src/index";
import { appendEntryArb } from "./support/arbitraries";
import { loadCapture } from "./support/capture";
import { propertyParameters } from "./support/seed";

const DIALECTS: readonly Dialect[] = ["current", "v2.9"];

/**
 * Runs `decode`; a thrown CodecError is an accepted outcome, any other exception fails the test.
 * A successful decode must be a valid frame: re-encoding it succeeds and decodes back to itself.
 */
function expectFrameOrCodecError<T>(
  decode: () => T,
  reencode: (frame: T) => Uint8Array,
  redecode: (bytes: Uint8Array) => T,
): "frame" | "error" {
  let frame: T;
  try {
    frame = decode();
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    expect(error.name).toBe("CodecError");
    return "error";
  }
  expect(redecode(reencode(frame))).toEqual(frame);
  return "frame";
}

/** Every decoder in every dialect over the same bytes. */
function checkAllDecoders(bytes: Uint8Array): void {
  for (const dialect of DIALECTS) {
    // A decoded append entry re-encodes in the current dialect to an equal frame.
    expectFrameOrCodecError(
      () => decodeAppendEntry(bytes, { dialect }),
      (ae) => {
        expect(ae.leader === "" || isNodeId(ae.leader)).toBe(true);
        return encodeAppendEntry(ae, { dialect: "current" });
      },
      (b) => decodeAppendEntry(b, { dialect }),
    );
    // v2.9 cannot carry lterm, so its re-encoding decodes with lterm 0.
    expectFrameOrCodecError(
      () => {
        const ae = decodeAppendEntry(bytes, { dialect });
        return { ...ae, lterm: 0 };
      },
      (ae) => encodeAppendEntry(ae, { dialect: "v2.9" }),
      (b) => decodeAppendEntry(b, { dialect }),
    );
    expectFrameOrCodecError(
      () => decodeReply(bytes, { dialect }),
      (reply) =>
        reply.kind === "voteResponse"
          ? encodeVoteResponse(reply.response, { dialect })
          : encodeAppendEntryResponse(reply.response),
      (b) => decodeReply(b, { dialect }),
    );
    expectFrameOrCodecError(
      () => decodeVoteResponse(bytes, { dialect }),
      (vr) => encodeVoteResponse(vr, { dialect }),
      (b) => decodeVoteResponse(b, { dialect }),
    );
  }
  expectFrameOrCodecError(
    () => decodeAppendEntryResponse(bytes),
    encodeAppendEntryResponse,
    decodeAppendEntryResponse,
  );
  expectFrameOrCodecError(() => decodeVoteRequest(bytes), encodeVoteRequest, decodeVoteRequest);
  expectFrameOrCodecError(() => decodePeerState(bytes), encodePeerState, decodePeerState);
  expectFrameOrCodecError(
    () => decodeNodeIdPayload(bytes),
    (id) => encodeNodeIdPayload(id),
    decodeNodeIdPayload,
  );
}

type Mutation =
  | { readonly kind: "flip"; readonly bits: readonly number[] }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "extend"; readonly tail: Uint8Array }
  | { readonly kind: "overwrite"; readonly at: number; readonly bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    bits: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("extend" as const),
    tail: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant("overwrite" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
);

function mutate(original: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(original);
  for (const mutation of mutations) {
    switch (mutation.kind) {
      case "flip":
        if (bytes.length === 0) break;
        for (const bit of mutation.bits) {
          const index = Math.floor(bit / 8) % bytes.length;
          bytes[index] = (bytes[index] as number) ^ (1 << (bit % 8));
        }
        break;
      case "truncate":
        bytes = bytes.slice(0, mutation.at % (bytes.length + 1));
        break;
      case "extend": {
        const longer = new Uint8Array(bytes.length + mutation.tail.length);
        longer.set(bytes);
        longer.set(mutation.tail, bytes.length);
        bytes = longer;
        break;
      }
      case "overwrite":
        if (bytes.length === 0) break;
        bytes.set(
          mutation.bytes.subarray(0, Math.max(0, bytes.length - (mutation.at % bytes.length))),
          mutation.at % bytes.length,
        );
        break;
    }
  }
  return bytes;
}

describe("decoders on hostile input", () => {
  const captured = loadCapture().map((frame) => frame.bytes);

  it("turn random bytes into a valid frame or a CodecError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => checkAllDecoders(bytes)),
      propertyParameters(1000),
    );
  });

  it("turn random bytes of the fixed frame lengths into a valid frame or a CodecError", () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(17, 25, 32, 42, 43, 10, 18)
          .chain((length) => fc.uint8Array({ minLength: length, maxLength: length })),
        (bytes) => checkAllDecoders(bytes),
      ),
      propertyParameters(500),
    );
  });

  it("turn mutated captured frames into a valid frame or a CodecError", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...captured),
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        (frame, mutations) => checkAllDecoders(mutate(frame, mutations)),
      ),
      propertyParameters(1000),
    );
  });

  it("turn mutated current-dialect append entries into a valid frame or a CodecError", () => {
    fc.assert(
      fc.property(
        appendEntryArb(true),
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        (ae, mutations) => checkAllDecoders(mutate(encodeAppendEntry(ae), mutations)),
      ),
      propertyParameters(500),
    );
  });

  it("reject every strict prefix of a captured append entry", () => {
    // 2.9.10 writes no trailer, so every cut lands inside the header or inside the declared
    // entries, and must be detected rather than read as a shorter frame.
    const withEntries = loadCapture().filter(
      (frame) => frame.subject.startsWith("$NRG.AE.") && frame.bytes.length > 42,
    );
    for (const frame of withEntries.slice(0, 50)) {
      for (let cut = 0; cut < frame.bytes.length; cut++) {
        expect(() => decodeAppendEntry(frame.bytes.subarray(0, cut))).toThrow(CodecError);
      }
    }
  });
});
