import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isNodeId, nodeIdFromServerName, sha256 } from "../src/index";
import { toHex } from "./support/capture";
import { propertyParameters } from "./support/seed";

describe("nodeIdFromServerName", () => {
  it("matches the spec's vectors", () => {
    expect(nodeIdFromServerName("nats-0")).toBe("S1Nunr6R");
    expect(nodeIdFromServerName("nats-1")).toBe("yrzKKRBu");
    expect(nodeIdFromServerName("nats-2")).toBe("cnrtt3eg");
  });

  it("matches a reference built on node:crypto for random names", () => {
    const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const reference = (name: string): string => {
      const digest = createHash("sha256").update(name, "utf8").digest();
      return Array.from(digest.subarray(0, 8), (b) => alphabet[b % 62]).join("");
    };
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (name) => {
        const id = nodeIdFromServerName(name);
        expect(id).toBe(reference(name));
        expect(isNodeId(id)).toBe(true);
      }),
      propertyParameters(500),
    );
  });
});

describe("sha256", () => {
  it("matches the FIPS 180-4 examples", () => {
    expect(toHex(sha256(new Uint8Array()))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(toHex(sha256(new TextEncoder().encode("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("matches node:crypto on every length around the block boundaries", () => {
    for (let length = 0; length <= 200; length++) {
      // Deterministic, irregular content: no unseeded randomness in tests.
      const message = Uint8Array.from({ length }, (_, i) => (i * 167 + length * 13) & 0xff);
      const expected = createHash("sha256").update(message).digest("hex");
      expect(toHex(sha256(message)), `length ${length}`).toBe(expected);
    }
  });

  it("matches node:crypto on random byte strings", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), (message) => {
        expect(toHex(sha256(message))).toBe(createHash("sha256").update(message).digest("hex"));
      }),
      propertyParameters(300),
    );
  });
});
