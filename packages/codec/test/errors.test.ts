import { describe, expect, it } from "vitest";
import {
  type AppendEntry,
  CODEC_ERROR_CODES,
  CodecError,
  type CodecErrorCode,
  decodeAppendEntry,
  decodeAppendEntryResponse,
  decodeNodeIdPayload,
  decodePeerState,
  decodeReply,
  decodeVoteRequest,
  decodeVoteResponse,
  type Entry,
  encodeAppendEntry,
  encodeAppendEntryResponse,
  encodeNodeIdPayload,
  encodePeerState,
  encodeVoteRequest,
  encodeVoteResponse,
  RaftError,
  toError,
} from "../src/index";
import { fromHex } from "./support/capture";

function codeOf(action: () => unknown): CodecErrorCode | "no error" {
  try {
    action();
  } catch (error) {
    if (error instanceof CodecError) return error.code;
    throw error;
  }
  return "no error";
}

const AE: AppendEntry = {
  leader: "S1Nunr6R",
  term: 2,
  commit: 1,
  pterm: 1,
  pindex: 1,
  entries: [{ type: 0, data: new Uint8Array([1, 2, 3]) }],
  lterm: 0,
};

// The 42-byte header shared by the decode cases below: leader "S1Nunr6R", term 1, commit 0,
// pterm 0, pindex 0.
const HEADER = `53314e756e723652${"0100000000000000"}${"00".repeat(24)}`;

describe("CodecError", () => {
  it("is a RaftError with a name, a code and a cause", () => {
    const cause = new Error("inner");
    const error = new CodecError("TRUNCATED", "too short", { cause });
    expect(error).toBeInstanceOf(RaftError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("CodecError");
    expect(error.code).toBe("TRUNCATED");
    expect(error.message).toBe("too short");
    expect(error.cause).toBe(cause);
    expect(new RaftError("X", "y").name).toBe("RaftError");
  });

  it("lists every code of the union once", () => {
    // A Record over the union fails to compile when a code is added without being listed here.
    const all: Record<CodecErrorCode, true> = {
      TRUNCATED: true,
      TRAILING_BYTES: true,
      BAD_LENGTH: true,
      BAD_ENTRY_LENGTH: true,
      BAD_ENTRY_TYPE: true,
      BAD_NODE_ID: true,
      TOO_MANY_ENTRIES: true,
      ENTRY_TOO_LARGE: true,
      VALUE_TOO_LARGE: true,
      BAD_NUMBER: true,
      BAD_VARINT: true,
      BAD_SUBJECT: true,
      BAD_GROUP_NAME: true,
      BAD_PAYLOAD: true,
    };
    expect([...CODEC_ERROR_CODES].sort()).toEqual(Object.keys(all).sort());
    expect(new Set(CODEC_ERROR_CODES).size).toBe(CODEC_ERROR_CODES.length);
  });
});

describe("toError", () => {
  it("returns errors as they are and wraps anything else", () => {
    const error = new Error("x");
    expect(toError(error)).toBe(error);
    expect(toError("boom").message).toBe("non-error thrown: boom");
    expect(toError({ a: 1 }).message).toBe('non-error thrown: {"a":1}');
    expect(toError(10n).message).toBe("non-error thrown: [object BigInt]");
    expect(toError(undefined).cause).toBe(undefined);
    expect(toError(42).cause).toBe(42);
  });
});

describe("encoder limits", () => {
  it("rejects leader ids that are not 8 printable ASCII characters or empty", () => {
    for (const leader of [
      "short",
      "ninechars",
      "has space",
      "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
      "abc\u0000defg".slice(0, 8),
    ]) {
      expect(codeOf(() => encodeAppendEntry({ ...AE, leader }))).toBe("BAD_NODE_ID");
    }
    expect(codeOf(() => encodeAppendEntry({ ...AE, leader: "" }))).toBe("no error");
  });

  it("rejects an empty peer or candidate id where a node must be named", () => {
    expect(
      codeOf(() => encodeAppendEntryResponse({ term: 1, index: 1, peer: "", success: true })),
    ).toBe("BAD_NODE_ID");
    expect(
      codeOf(() => encodeVoteRequest({ term: 1, lastTerm: 1, lastIndex: 1, candidate: "x" })),
    ).toBe("BAD_NODE_ID");
    expect(
      codeOf(() => encodeVoteResponse({ term: 1, peer: "", granted: true, empty: false })),
    ).toBe("BAD_NODE_ID");
    expect(codeOf(() => encodePeerState({ clusterSize: 3, peers: ["abc"], extState: 0 }))).toBe(
      "BAD_NODE_ID",
    );
  });

  it("rejects more than 65,535 entries and accepts exactly 65,535", () => {
    const entry: Entry = { type: 0, data: new Uint8Array() };
    const max = { ...AE, entries: new Array<Entry>(65_535).fill(entry) };
    expect(decodeAppendEntry(encodeAppendEntry(max)).entries.length).toBe(65_535);
    expect(codeOf(() => encodeAppendEntry({ ...AE, entries: [...max.entries, entry] }))).toBe(
      "TOO_MANY_ENTRIES",
    );
  });

  it("rejects entry data of 2^31 bytes or more", () => {
    // A fake view whose length is 2^31: the size check must fire before any byte is touched.
    const huge = { length: 2 ** 31 } as unknown as Uint8Array;
    expect(codeOf(() => encodeAppendEntry({ ...AE, entries: [{ type: 0, data: huge }] }))).toBe(
      "ENTRY_TOO_LARGE",
    );
  });

  it("rejects entry types that may not go on the wire", () => {
    for (const type of [7, 8, 255, -1]) {
      const entries = [{ type, data: new Uint8Array() }] as unknown as Entry[];
      expect(codeOf(() => encodeAppendEntry({ ...AE, entries }))).toBe("BAD_ENTRY_TYPE");
    }
  });

  it("rejects numbers that are not non-negative safe integers", () => {
    for (const term of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(codeOf(() => encodeAppendEntry({ ...AE, term }))).toBe("BAD_NUMBER");
      expect(
        codeOf(() => encodeVoteRequest({ term, lastTerm: 0, lastIndex: 0, candidate: "S1Nunr6R" })),
      ).toBe("BAD_NUMBER");
    }
    expect(codeOf(() => encodeAppendEntry({ ...AE, lterm: 2 ** 53 }))).toBe("VALUE_TOO_LARGE");
    expect(
      codeOf(() =>
        encodeAppendEntryResponse({ term: 0, index: 2 ** 60, peer: "S1Nunr6R", success: false }),
      ),
    ).toBe("VALUE_TOO_LARGE");
    expect(codeOf(() => encodePeerState({ clusterSize: 2 ** 32, peers: [], extState: 0 }))).toBe(
      "VALUE_TOO_LARGE",
    );
    expect(codeOf(() => encodePeerState({ clusterSize: 1, peers: [], extState: 65_536 }))).toBe(
      "VALUE_TOO_LARGE",
    );
  });
});

describe("rejected encodes", () => {
  it("leave a caller-provided buffer untouched", () => {
    const buffer = new Uint8Array(64).fill(0x5a);
    const untouched = (): boolean => buffer.every((byte) => byte === 0x5a);
    const attempts: (() => unknown)[] = [
      () =>
        encodeAppendEntry(
          { ...AE, entries: [{ type: 9 as 0, data: new Uint8Array() }] },
          { buffer },
        ),
      () => encodeAppendEntry({ ...AE, pindex: -1 }, { buffer }),
      () =>
        encodeAppendEntryResponse({ term: 1, index: 2, peer: "bad", success: true }, { buffer }),
      () => encodeVoteRequest({ term: 1, lastTerm: 1, lastIndex: 1, candidate: "" }, { buffer }),
      () =>
        encodeVoteResponse({ term: 1, peer: "bad id!!", granted: true, empty: false }, { buffer }),
      () => encodePeerState({ clusterSize: 3, peers: ["S1Nunr6R", "x"], extState: 0 }, { buffer }),
    ];
    for (const attempt of attempts) {
      expect(attempt).toThrow(CodecError);
      expect(untouched()).toBe(true);
    }
  });
});

describe("decoder errors", () => {
  it("reports a short append entry as TRUNCATED", () => {
    expect(codeOf(() => decodeAppendEntry(new Uint8Array(41)))).toBe("TRUNCATED");
  });

  it("reports an entry count larger than the bytes allow as TRUNCATED", () => {
    // count 0xffff with no entry bytes at all
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}ffff`)))).toBe("TRUNCATED");
  });

  it("reports an entry length running past the end as TRUNCATED", () => {
    // count 1 · len 0x10 but only the type byte and 2 data bytes follow
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0100${"10000000"}00aabb`)))).toBe(
      "TRUNCATED",
    );
  });

  it("reports an entry length of 0 as BAD_ENTRY_LENGTH", () => {
    // count 1 · len 0 · one more byte so the 5-byte minimum is met
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0100${"00000000"}00`)))).toBe(
      "BAD_ENTRY_LENGTH",
    );
  });

  it("reports an entry length of 2^31 + 1 or more as ENTRY_TOO_LARGE", () => {
    // count 1 · len 0x80000001 (data 2^31 bytes) · type 0
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0100${"01000080"}00`)))).toBe(
      "ENTRY_TOO_LARGE",
    );
  });

  it("reports the local-only Catchup type and unknown types as BAD_ENTRY_TYPE", () => {
    // count 1 · len 1 · type 7 (Catchup)
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0100${"01000000"}07`)))).toBe(
      "BAD_ENTRY_TYPE",
    );
  });

  it("reports a malformed lterm trailer as BAD_VARINT", () => {
    // count 0 · trailer 0x80 (continuation bit with nothing after it)
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0000${"80"}`)))).toBe("BAD_VARINT");
    // non-minimal: 0x80 0x00 encodes 0 in two bytes
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0000${"8000"}`)))).toBe("BAD_VARINT");
    // 10th byte 0x02 overflows u64
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0000${"ff".repeat(9)}02`)))).toBe(
      "BAD_VARINT",
    );
    // 11 bytes
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0000${"ff".repeat(10)}01`)))).toBe(
      "BAD_VARINT",
    );
  });

  it("reports an lterm above 2^53 − 1 as VALUE_TOO_LARGE", () => {
    // 2^53 = 0x80 × 7 then 0x10
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0000${"80".repeat(7)}10`)))).toBe(
      "VALUE_TOO_LARGE",
    );
    // 2^64 − 1, the largest u64
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0000${"ff".repeat(9)}01`)))).toBe(
      "VALUE_TOO_LARGE",
    );
  });

  it("reports bytes after the lterm trailer as TRAILING_BYTES", () => {
    expect(codeOf(() => decodeAppendEntry(fromHex(`${HEADER}0000${"05"}ff`)))).toBe(
      "TRAILING_BYTES",
    );
  });

  it("reports a u64 field above 2^53 − 1 as VALUE_TOO_LARGE", () => {
    // term 2^53 = 0x0020000000000000
    const bytes = fromHex(`53314e756e723652${"0000000000002000"}${"00".repeat(24)}0000`);
    expect(codeOf(() => decodeAppendEntry(bytes))).toBe("VALUE_TOO_LARGE");
    // term 2^53 − 1 is fine
    const max = fromHex(`53314e756e723652${"ffffffffffff1f00"}${"00".repeat(24)}0000`);
    expect(decodeAppendEntry(max).term).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("reports ids with zero or non-printable bytes as BAD_NODE_ID", () => {
    // leader "S1Nunr6" followed by one zero byte
    const partial = fromHex(`53314e756e723600${"0100000000000000"}${"00".repeat(24)}0000`);
    expect(codeOf(() => decodeAppendEntry(partial))).toBe("BAD_NODE_ID");
    // an AER from peer "" (8 zero bytes): only an append entry's leader may be empty
    const aer = fromHex(`${"00".repeat(16)}${"00".repeat(8)}01`);
    expect(codeOf(() => decodeAppendEntryResponse(aer))).toBe("BAD_NODE_ID");
    // a vote request whose candidate contains a space (0x20)
    const vr = fromHex(`${"00".repeat(24)}53314e756e722052`);
    expect(codeOf(() => decodeVoteRequest(vr))).toBe("BAD_NODE_ID");
  });

  it("reports fixed frames of the wrong length as BAD_LENGTH", () => {
    for (const length of [0, 16, 24, 26, 40]) {
      const bytes = new Uint8Array(length);
      expect(codeOf(() => decodeAppendEntryResponse(bytes))).toBe("BAD_LENGTH");
      expect(codeOf(() => decodeVoteResponse(bytes))).toBe("BAD_LENGTH");
      expect(codeOf(() => decodeVoteRequest(bytes))).toBe("BAD_LENGTH");
    }
  });

  it("rejects replies that are neither 25 nor 17 bytes with BAD_LENGTH", () => {
    for (const length of [0, 16, 18, 24, 26, 32]) {
      expect(codeOf(() => decodeReply(new Uint8Array(length)))).toBe("BAD_LENGTH");
    }
  });

  it("checks node-id payloads", () => {
    expect(decodeNodeIdPayload(fromHex("53314e756e723652"))).toBe("S1Nunr6R");
    expect(codeOf(() => decodeNodeIdPayload(fromHex("53314e756e7236")))).toBe("BAD_LENGTH");
    expect(codeOf(() => decodeNodeIdPayload(new Uint8Array(8)))).toBe("BAD_NODE_ID");
    expect(codeOf(() => encodeNodeIdPayload(""))).toBe("BAD_NODE_ID");
  });

  it("reads any success byte other than 1 as a failure", () => {
    const aer = fromHex(`${"01".padEnd(16, "0")}${"02".padEnd(16, "0")}53314e756e723652ff`);
    expect(decodeAppendEntryResponse(aer)).toEqual({
      term: 1,
      index: 2,
      peer: "S1Nunr6R",
      success: false,
    });
  });

  it("checks peer-state lengths against the peer count", () => {
    // fewer than 8 bytes
    expect(codeOf(() => decodePeerState(fromHex("030000000100")))).toBe("TRUNCATED");
    // n = 2 but one id
    expect(codeOf(() => decodePeerState(fromHex(`03000000${"02000000"}53314e756e723652`)))).toBe(
      "TRUNCATED",
    );
    // half an extension state
    expect(codeOf(() => decodePeerState(fromHex(`03000000${"01000000"}53314e756e72365201`)))).toBe(
      "TRUNCATED",
    );
    // a byte after the extension state
    expect(
      codeOf(() => decodePeerState(fromHex(`03000000${"01000000"}53314e756e723652${"0100"}ff`))),
    ).toBe("TRAILING_BYTES");
    // a forged count of 2^32 − 1 peers
    expect(codeOf(() => decodePeerState(fromHex(`03000000${"ffffffff"}0000`)))).toBe("TRUNCATED");
  });
});
