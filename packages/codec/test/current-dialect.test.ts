import { describe, expect, it } from "vitest";
import {
  decodeAppendEntry,
  decodePeerState,
  decodeVoteResponse,
  EntryType,
  ExtensionState,
  encodeAppendEntry,
  encodePeerState,
  encodeVoteResponse,
} from "../src/index";
import { fromHex, toHex } from "./support/capture";

// Fixtures built by hand from the byte tables of nats-raft-spec §2.2, §2.6 and §2.7; every hex
// string is annotated field by field. All integers are little-endian.

const HEADER =
  "53314e756e723652" + // leader "S1Nunr6R"
  "0700000000000000" + // term 7
  "0500000000000000" + // commit 5
  "0600000000000000" + // pterm 6
  "0900000000000000"; // pindex 9

describe("current dialect fixtures", () => {
  it("writes a 0x00 lterm trailer on a heartbeat", () => {
    const bytes = fromHex(
      HEADER +
        "0000" + // entry count 0
        "00", // lterm uvarint 0 (always written in the current dialect)
    );
    const ae = decodeAppendEntry(bytes);
    expect(ae).toEqual({
      leader: "S1Nunr6R",
      term: 7,
      commit: 5,
      pterm: 6,
      pindex: 9,
      entries: [],
      lterm: 0,
    });
    expect(toHex(encodeAppendEntry(ae))).toBe(toHex(bytes));
    // v2.9 writes no trailer: the same frame is one byte shorter.
    expect(toHex(encodeAppendEntry(ae, { dialect: "v2.9" }))).toBe(toHex(bytes.subarray(0, 42)));
  });

  it("carries a multi-byte lterm after the entries", () => {
    const bytes = fromHex(
      HEADER +
        "0200" + // entry count 2
        "04000000" + // entry 0: len 4 = 1 type byte + 3 data bytes
        "00" + //          type 0 Normal
        "616263" + //      data "abc"
        "01000000" + // entry 1: len 1 = type byte only, empty data
        "05" + //          type 5 LeaderTransfer
        "ac02", // lterm uvarint 300 = 0b10_0101100 → 0xac (low 7 bits | 0x80), 0x02
    );
    const ae = decodeAppendEntry(bytes);
    expect(ae.lterm).toBe(300);
    expect(ae.entries.map((e) => [e.type, toHex(e.data)])).toEqual([
      [EntryType.Normal, "616263"],
      [EntryType.LeaderTransfer, ""],
    ]);
    // Zero copy: entry data are views into the frame.
    expect(ae.entries[0]?.data.buffer).toBe(bytes.buffer);
    expect(ae.entries[0]?.data.byteOffset).toBe(bytes.byteOffset + 47);
    expect(toHex(encodeAppendEntry(ae))).toBe(toHex(bytes));
    // A Node Buffer as input still yields plain Uint8Array views at the right offsets.
    const pooled = Buffer.concat([Buffer.from([0xaa, 0xbb]), bytes]).subarray(2);
    const fromBuffer = decodeAppendEntry(pooled);
    expect(Object.getPrototypeOf(fromBuffer.entries[0]?.data)).toBe(Uint8Array.prototype);
    expect(fromBuffer).toEqual(ae);
  });

  it("carries the largest safe lterm as an 8-byte uvarint", () => {
    const bytes = fromHex(
      HEADER +
        "0000" + // entry count 0
        "ffffffffffffff0f", // lterm uvarint 2^53 − 1: seven 0xff then 0x0f (53 = 7 × 7 + 4 bits)
    );
    expect(decodeAppendEntry(bytes).lterm).toBe(Number.MAX_SAFE_INTEGER);
    expect(toHex(encodeAppendEntry(decodeAppendEntry(bytes)))).toBe(toHex(bytes));
  });

  it("writes 8 zero bytes for a missing leader", () => {
    const bytes = fromHex(
      "0000000000000000" + // leader "" (no leader)
        "0100000000000000" + // term 1
        "0000000000000000" + // commit 0
        "0000000000000000" + // pterm 0
        "0000000000000000" + // pindex 0
        "0000" + // entry count 0
        "00", // lterm 0
    );
    const ae = decodeAppendEntry(bytes);
    expect(ae.leader).toBe("");
    expect(toHex(encodeAppendEntry(ae))).toBe(toHex(bytes));
  });

  it("sets flag 3 for a granted vote from an empty log", () => {
    const bytes = fromHex(
      "0400000000000000" + // term 4
        "79727a4b4b524275" + // peer "yrzKKRBu"
        "03", // flags: bit 0 granted | bit 1 empty log
    );
    const vr = decodeVoteResponse(bytes);
    expect(vr).toEqual({ term: 4, peer: "yrzKKRBu", granted: true, empty: true });
    expect(toHex(encodeVoteResponse(vr))).toBe(toHex(bytes));
    // A 2.9.10 node tests the byte for == 1, so it reads 0x03 as a denial…
    expect(decodeVoteResponse(bytes, { dialect: "v2.9" }).granted).toBe(false);
    // …which is why the v2.9 dialect writes 0x01 and drops the empty bit.
    expect(toHex(encodeVoteResponse(vr, { dialect: "v2.9" }))).toBe(
      "0400000000000000" + "79727a4b4b524275" + "01",
    );
  });

  it("sets flag 2 for a denied vote from an empty log", () => {
    const bytes = fromHex(
      "0400000000000000" + // term 4
        "79727a4b4b524275" + // peer "yrzKKRBu"
        "02", // flags: bit 1 empty log, not granted
    );
    expect(decodeVoteResponse(bytes)).toEqual({
      term: 4,
      peer: "yrzKKRBu",
      granted: false,
      empty: true,
    });
    expect(toHex(encodeVoteResponse(decodeVoteResponse(bytes)))).toBe(toHex(bytes));
  });

  it("reads and writes a peer state with an extension state", () => {
    const bytes = fromHex(
      "03000000" + // clusterSize 3
        "02000000" + // n = 2 peers
        "53314e756e723652" + // peer "S1Nunr6R"
        "636e727474336567" + // peer "cnrtt3eg"
        "0200", // extState 2 = not extended
    );
    const ps = decodePeerState(bytes);
    expect(ps).toEqual({
      clusterSize: 3,
      peers: ["S1Nunr6R", "cnrtt3eg"],
      extState: ExtensionState.NotExtended,
    });
    expect(toHex(encodePeerState(ps))).toBe(toHex(bytes));
  });

  it("reads a peer state without the optional extension state as undetermined", () => {
    const bytes = fromHex(
      "05000000" + // clusterSize 5
        "01000000" + // n = 1 peer
        "53314e756e723652", // peer "S1Nunr6R"; no trailing extState u16
    );
    expect(decodePeerState(bytes)).toEqual({
      clusterSize: 5,
      peers: ["S1Nunr6R"],
      extState: ExtensionState.Undetermined,
    });
    // We always write the u16, as every nats-server version does.
    expect(toHex(encodePeerState(decodePeerState(bytes)))).toBe(`${toHex(bytes)}0000`);
  });
});
