import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appendEntrySize,
  type Dialect,
  decodeAppendEntry,
  decodeAppendEntryResponse,
  decodePeerState,
  decodeVoteRequest,
  decodeVoteResponse,
  encodeAppendEntry,
  encodeAppendEntryResponse,
  encodePeerState,
  encodeVoteRequest,
  encodeVoteResponse,
} from "../src/index";
import {
  appendEntryArb,
  appendEntryResponseArb,
  peerStateArb,
  voteRequestArb,
  voteResponseArb,
} from "./support/arbitraries";
import { toHex } from "./support/capture";
import { propertyParameters } from "./support/seed";

const RUNS = 300;

describe.each<Dialect>(["current", "v2.9"])("frame round trips (%s dialect)", (dialect) => {
  // v2.9 can carry neither lterm nor the empty-log bit, so its frames have them at their defaults.
  const full = dialect === "current";

  it("decode(encode(ae)) equals ae, and the size is as predicted", () => {
    fc.assert(
      fc.property(appendEntryArb(full), (ae) => {
        const bytes = encodeAppendEntry(ae, { dialect });
        expect(bytes.length).toBe(appendEntrySize(ae, dialect));
        expect(decodeAppendEntry(bytes, { dialect })).toEqual(ae);
      }),
      propertyParameters(RUNS),
    );
  });

  it("encodes into a large enough caller buffer and allocates otherwise", () => {
    fc.assert(
      fc.property(appendEntryArb(full), fc.nat({ max: 64 }), (ae, slack) => {
        const expected = encodeAppendEntry(ae, { dialect });
        const big = new Uint8Array(expected.length + slack);
        const intoBig = encodeAppendEntry(ae, { dialect, buffer: big });
        expect(intoBig.buffer).toBe(big.buffer);
        expect(toHex(intoBig)).toBe(toHex(expected));
        if (expected.length > 0) {
          const small = new Uint8Array(expected.length - 1);
          const fresh = encodeAppendEntry(ae, { dialect, buffer: small });
          expect(fresh.buffer).not.toBe(small.buffer);
          expect(toHex(fresh)).toBe(toHex(expected));
        }
      }),
      propertyParameters(RUNS),
    );
  });

  it("decode(encode(aer)) equals aer", () => {
    fc.assert(
      fc.property(appendEntryResponseArb, (aer) => {
        const bytes = encodeAppendEntryResponse(aer);
        expect(bytes.length).toBe(25);
        expect(decodeAppendEntryResponse(bytes)).toEqual(aer);
      }),
      propertyParameters(RUNS),
    );
  });

  it("decode(encode(voteRequest)) equals voteRequest", () => {
    fc.assert(
      fc.property(voteRequestArb, (vr) => {
        const bytes = encodeVoteRequest(vr);
        expect(bytes.length).toBe(32);
        expect(decodeVoteRequest(bytes)).toEqual(vr);
      }),
      propertyParameters(RUNS),
    );
  });

  it("decode(encode(voteResponse)) equals voteResponse", () => {
    fc.assert(
      fc.property(voteResponseArb(full), (vr) => {
        const bytes = encodeVoteResponse(vr, { dialect });
        expect(bytes.length).toBe(17);
        expect(decodeVoteResponse(bytes, { dialect })).toEqual(vr);
      }),
      propertyParameters(RUNS),
    );
  });

  it("decode(encode(peerState)) equals peerState", () => {
    fc.assert(
      fc.property(peerStateArb, (ps) => {
        const bytes = encodePeerState(ps);
        expect(bytes.length).toBe(10 + 8 * ps.peers.length);
        expect(decodePeerState(bytes)).toEqual(ps);
      }),
      propertyParameters(RUNS),
    );
  });
});

describe("encoder output ownership", () => {
  it("never lets two encoded frames share bytes", () => {
    // Small frames come from a shared slab: keep many alive, then check none was overwritten.
    fc.assert(
      fc.property(fc.array(appendEntryArb(true), { minLength: 50, maxLength: 200 }), (frames) => {
        // All frames are encoded first, then each is checked: a later encode that reused an
        // earlier frame's bytes would show up as a mismatch.
        const encoded = frames.map((ae) => encodeAppendEntry(ae));
        encoded.forEach((bytes, i) => {
          expect(decodeAppendEntry(bytes)).toEqual(frames[i]);
        });
      }),
      propertyParameters(20),
    );
  });
});

describe("dialect interplay", () => {
  it("reads a v2.9 append entry in the current dialect with lterm 0, and vice versa", () => {
    fc.assert(
      fc.property(appendEntryArb(true), (ae) => {
        const old = encodeAppendEntry(ae, { dialect: "v2.9" });
        expect(decodeAppendEntry(old, { dialect: "current" })).toEqual({ ...ae, lterm: 0 });
        const current = encodeAppendEntry(ae, { dialect: "current" });
        expect(current.length - old.length).toBeGreaterThanOrEqual(1);
        expect(decodeAppendEntry(current, { dialect: "v2.9" })).toEqual(ae);
      }),
      propertyParameters(RUNS),
    );
  });
});
