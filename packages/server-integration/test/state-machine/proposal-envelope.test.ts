import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { decodeProposal, encodeProposal } from "../../src/state-machine/proposal-envelope";

describe("proposal envelope", () => {
  it("round-trips an id and a command", () => {
    const bytes = encodeProposal("abc-1", { op: "set", key: "k", value: [1, 2] });
    expect(decodeProposal(bytes)).toEqual({
      id: "abc-1",
      command: { op: "set", key: "k", value: [1, 2] },
    });
  });

  it("rejects values that are not envelopes", () => {
    expect(decodeProposal(new Uint8Array())).toBeUndefined();
    expect(decodeProposal(encodeProposal("x", 1).subarray(1))).toBeUndefined();
  });

  test.prop([fc.uint8Array({ maxLength: 200 })])("decoding random bytes never throws", (bytes) => {
    const decoded = decodeProposal(bytes);
    if (decoded !== undefined) expect(typeof decoded.id).toBe("string");
  });

  test.prop([fc.string(), fc.jsonValue()])("round-trips any JSON command", (id, command) => {
    const decoded = decodeProposal(encodeProposal(id, command));
    expect(decoded?.id).toBe(id);
  });
});
