import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeHeaderBlock, headerValue, JetStreamError, parseHeaderBlock } from "../src/index";
import { propertyParams } from "./arbitraries";

const enc = new TextEncoder();

describe("parseHeaderBlock", () => {
  it("reads keys and values of a NATS header block", () => {
    const block = parseHeaderBlock(
      enc.encode("NATS/1.0\r\nNats-Msg-Id: abc\r\nX: 1\r\nX:  2 \r\n\r\n"),
    );
    expect(block.status).toBeUndefined();
    expect(headerValue(block, "Nats-Msg-Id")).toBe("abc");
    expect(block.headers.get("X")).toEqual(["1", "2"]);
    expect(headerValue(block, "nats-msg-id")).toBeUndefined();
  });

  it("reads a status line with a description", () => {
    const block = parseHeaderBlock(enc.encode("NATS/1.0 404 No Messages\r\n\r\n"));
    expect(block.status).toBe(404);
    expect(block.description).toBe("No Messages");
  });

  it("treats an empty array as no headers", () => {
    expect(parseHeaderBlock(new Uint8Array(0)).headers.size).toBe(0);
  });

  it.each([
    "NATS/1.0\r\n",
    "HTTP/1.1\r\n\r\n",
    "NATS/1.0\r\nno colon\r\n\r\n",
    "NATS/1.0\r\n: empty key\r\n\r\n",
    "NATS/1.0\r\nA: b\nC: d\r\n\r\n",
    "NATS/1.0 5x\r\n\r\n",
    "NATS/1.0x\r\n\r\n",
  ])("refuses %j with BAD_HEADERS", (text) => {
    expect(() => parseHeaderBlock(enc.encode(text))).toThrow(
      expect.objectContaining({ code: "BAD_HEADERS" }),
    );
  });

  it("refuses invalid UTF-8 with BAD_HEADERS", () => {
    const bytes = new Uint8Array([
      ...enc.encode("NATS/1.0\r\nA: "),
      0xff,
      ...enc.encode("\r\n\r\n"),
    ]);
    expect(() => parseHeaderBlock(bytes)).toThrow(expect.objectContaining({ code: "BAD_HEADERS" }));
  });

  it("returns a block or throws BAD_HEADERS for random bytes, never anything else", () => {
    const prefixed = fc
      .uint8Array({ maxLength: 64 })
      .map((tail) => new Uint8Array([...enc.encode("NATS/1.0\r\n"), ...tail]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), prefixed), (bytes) => {
        try {
          const block = parseHeaderBlock(bytes);
          expect(block.headers).toBeInstanceOf(Map);
        } catch (error) {
          expect(error).toBeInstanceOf(JetStreamError);
          expect((error as JetStreamError).code).toBe("BAD_HEADERS");
        }
      }),
      propertyParams(2000),
    );
  });

  it("parses back what encodeHeaderBlock wrote", () => {
    const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/);
    const value = fc.stringMatching(/^[ -~]{0,20}$/).map((v) => v.trim());
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 6 }), (headers) => {
        const block = parseHeaderBlock(encodeHeaderBlock(headers));
        for (const [k, v] of Object.entries(headers)) expect(headerValue(block, k)).toBe(v);
        expect(block.headers.size).toBe(Object.keys(headers).length);
      }),
      propertyParams(500),
    );
  });
});
