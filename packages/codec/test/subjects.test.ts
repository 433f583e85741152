import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appendEntrySubject,
  CodecError,
  catchupSubject,
  consumerGroupName,
  isInbox,
  META_GROUP,
  newInbox,
  parseGroupName,
  parseSubject,
  proposalSubject,
  type RandomSource,
  removePeerSubject,
  replySubject,
  streamGroupName,
  voteSubject,
} from "../src/index";
import { propertyParameters } from "./support/seed";

/** A RandomSource that replays fixed words (a fake of the port, not a mock). */
function replay(...words: number[]): RandomSource {
  let next = 0;
  return {
    nextUint32(): number {
      const word = words[next++ % words.length];
      if (word === undefined) throw new Error("replay source is empty");
      return word;
    },
  };
}

describe("subject builders", () => {
  it("build every $NRG subject", () => {
    expect(voteSubject(META_GROUP)).toBe("$NRG.V._meta_");
    expect(appendEntrySubject("S-R3F-95CXT8g4")).toBe("$NRG.AE.S-R3F-95CXT8g4");
    expect(proposalSubject("C-R3F-DJIKrbVi")).toBe("$NRG.P.C-R3F-DJIKrbVi");
    expect(removePeerSubject("_meta_")).toBe("$NRG.RP._meta_");
    expect(replySubject("sqHKLUHB")).toBe("$NRG.R.sqHKLUHB");
    expect(catchupSubject("gVwwrvqw")).toBe("$NRG.CR.gVwwrvqw");
  });

  it("reject groups with dots, wildcards, spaces or nothing at all", () => {
    for (const group of ["", "a.b", "*", ">", "a b", "tab\t", "caf\u00e9"]) {
      expect(() => voteSubject(group)).toThrow(CodecError);
      expect(() => appendEntrySubject(group)).toThrow(/invalid group/);
    }
  });

  it("reject inboxes that are not 8 base-62 characters", () => {
    for (const inbox of ["", "abc", "sqHKLUHBx", "sqHK-UHB", "sqHK.UHB", "sqHK*UHB"]) {
      expect(() => replySubject(inbox)).toThrow(CodecError);
      expect(() => catchupSubject(inbox)).toThrow(CodecError);
    }
  });
});

describe("parseSubject", () => {
  it("parses every kind", () => {
    expect(parseSubject("$NRG.V._meta_")).toEqual({ kind: "vote", group: "_meta_" });
    expect(parseSubject("$NRG.AE.g")).toEqual({ kind: "appendEntry", group: "g" });
    expect(parseSubject("$NRG.P.g")).toEqual({ kind: "proposal", group: "g" });
    expect(parseSubject("$NRG.RP.g")).toEqual({ kind: "removePeer", group: "g" });
    expect(parseSubject("$NRG.R.sqHKLUHB")).toEqual({ kind: "reply", inbox: "sqHKLUHB" });
    expect(parseSubject("$NRG.CR.sqHKLUHB")).toEqual({ kind: "catchup", inbox: "sqHKLUHB" });
  });

  it("rejects anything else with BAD_SUBJECT", () => {
    const bad = [
      "",
      "$NRG",
      "$NRG.V",
      "$NRG.V.",
      "$NRG.X.g",
      "$NRG.V.a.b",
      "NRG.V.g",
      "$nrg.V.g",
      "$NRG.V.*",
      "$NRG.AE.>",
      "$NRG.R.short",
      "$NRG.CR.toolong12",
      "$NRG.R.sqHK UHB",
    ];
    for (const subject of bad) {
      try {
        parseSubject(subject);
        throw new Error(`accepted ${subject}`);
      } catch (error) {
        expect(error).toBeInstanceOf(CodecError);
        expect((error as CodecError).code).toBe("BAD_SUBJECT");
      }
    }
  });

  it("inverts every builder", () => {
    const groupArb = fc
      .array(
        fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x2e && c !== 0x2a && c !== 0x3e),
        { minLength: 1, maxLength: 20 },
      )
      .map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(groupArb, fc.nat(), fc.nat(), (group, high, low) => {
        const inbox = newInbox(replay(high >>> 0, low >>> 0));
        expect(parseSubject(voteSubject(group))).toEqual({ kind: "vote", group });
        expect(parseSubject(appendEntrySubject(group))).toEqual({ kind: "appendEntry", group });
        expect(parseSubject(proposalSubject(group))).toEqual({ kind: "proposal", group });
        expect(parseSubject(removePeerSubject(group))).toEqual({ kind: "removePeer", group });
        expect(parseSubject(replySubject(inbox))).toEqual({ kind: "reply", inbox });
        expect(parseSubject(catchupSubject(inbox))).toEqual({ kind: "catchup", inbox });
      }),
      propertyParameters(300),
    );
  });

  it("throws only CodecError on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (subject) => {
        try {
          parseSubject(subject);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
        }
      }),
      propertyParameters(500),
    );
  });
});

describe("newInbox", () => {
  it("writes the u64's base-62 digits least significant first", () => {
    expect(newInbox(replay(0, 0))).toBe("00000000");
    // 1 → "1" then seven zeros (least significant digit first)
    expect(newInbox(replay(0, 1))).toBe("10000000");
    // 61 → "z"; 62 → "01"
    expect(newInbox(replay(0, 61))).toBe("z0000000");
    expect(newInbox(replay(0, 62))).toBe("01000000");
  });

  it("uses the high word (2^64 − 1 → digits of 18446744073709551615 mod 62^8)", () => {
    let value = 2n ** 64n - 1n;
    let expected = "";
    const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    for (let i = 0; i < 8; i++) {
      expected += alphabet[Number(value % 62n)];
      value /= 62n;
    }
    expect(newInbox(replay(0xffff_ffff, 0xffff_ffff))).toBe(expected);
    // The high word matters: 2^32 is "0" shifted, not the same as 0.
    expect(newInbox(replay(1, 0))).not.toBe(newInbox(replay(0, 0)));
  });

  it("always yields a valid inbox", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), fc.nat({ max: 0xffff_ffff }), (high, low) => {
        expect(isInbox(newInbox(replay(high, low)))).toBe(true);
      }),
      propertyParameters(300),
    );
  });

  it("rejects a random source that breaks its contract", () => {
    for (const word of [-1, 2 ** 32, 0.5, Number.NaN]) {
      expect(() => newInbox(replay(word, 0))).toThrow(CodecError);
    }
  });
});

describe("group names", () => {
  it("builds stream and consumer group names", () => {
    const random = replay(0, 1);
    expect(streamGroupName({ replicas: 3, storage: "file", random })).toBe("S-R3F-10000000");
    expect(consumerGroupName({ replicas: 1, storage: "memory", random })).toBe("C-R1M-10000000");
  });

  it("parses the meta, stream and consumer forms", () => {
    expect(parseGroupName("_meta_")).toEqual({ kind: "meta" });
    expect(parseGroupName("S-R3F-95CXT8g4")).toEqual({
      kind: "stream",
      replicas: 3,
      storage: "file",
      suffix: "95CXT8g4",
    });
    expect(parseGroupName("C-R5M-DJIKrbVi")).toEqual({
      kind: "consumer",
      replicas: 5,
      storage: "memory",
      suffix: "DJIKrbVi",
    });
  });

  it("rejects other names with BAD_GROUP_NAME", () => {
    for (const name of [
      "",
      "_META_",
      "S-R3X-95CXT8g4",
      "S-R03F-95CXT8g4",
      "S-RF-95CXT8g4",
      "X-R3F-95CXT8g4",
      "S-R3F-95CXT8g",
      "S-R3F-95CXT8g4x",
      "S-R3F-95CX-8g4",
    ]) {
      try {
        parseGroupName(name);
        throw new Error(`accepted ${name}`);
      } catch (error) {
        expect((error as CodecError).code).toBe("BAD_GROUP_NAME");
      }
    }
  });

  it("rejects bad replica counts and storage types", () => {
    const random = replay(1, 2);
    expect(() => streamGroupName({ replicas: 0, storage: "file", random })).toThrow(CodecError);
    expect(() => streamGroupName({ replicas: 1.5, storage: "file", random })).toThrow(CodecError);
    const storage = "disk" as unknown as "file";
    expect(() => consumerGroupName({ replicas: 3, storage, random })).toThrow(CodecError);
  });

  it("throws only CodecError on arbitrary strings", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 24 }),
          fc.stringMatching(/^[SC]-R[0-9]{1,3}[FMX]-[0-9A-Za-z]{7,9}$/),
        ),
        (name) => {
          try {
            const parsed = parseGroupName(name);
            expect(parsed.kind === "meta" || /^[SC]-R[1-9]/.test(name)).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
          }
        },
      ),
      propertyParameters(500),
    );
  });

  it("parses what it builds", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 99 }),
        fc.constantFrom("file" as const, "memory" as const),
        fc.nat({ max: 0xffff_ffff }),
        fc.nat({ max: 0xffff_ffff }),
        (replicas, storage, high, low) => {
          const random = replay(high, low);
          const stream = streamGroupName({ replicas, storage, random });
          expect(parseGroupName(stream)).toMatchObject({ kind: "stream", replicas, storage });
          const consumer = consumerGroupName({ replicas, storage, random });
          expect(parseGroupName(consumer)).toMatchObject({ kind: "consumer", replicas, storage });
          expect(parseSubject(voteSubject(stream))).toEqual({ kind: "vote", group: stream });
        },
      ),
      propertyParameters(300),
    );
  });
});
