import { describe, expect, it } from "vitest";
import { decodeBridgeFrame, encodeBridgeFrame } from "../src/nats/bridge-frame";
import { parseConnectOptions } from "../src/nats/connect-options";
import { decodeHeaders, encodeHeaders } from "../src/nats/headers";
import { NATS_ERROR_CODES, NatsError } from "../src/nats/nats-error";
import type { ClientOp, ParseStep } from "../src/nats/protocol-parser";
import { ProtocolParser } from "../src/nats/protocol-parser";
import type { Rng } from "./helpers/seeded";
import { forAll, int, pick } from "./helpers/seeded";

const LIMITS = { maxControlLine: 256, maxPayload: 2048 } as const;

interface Parsed {
  readonly ops: unknown[];
  readonly error: string | undefined;
}

/** Plain data for comparison (typed-array views become hex strings). */
function plain(op: ClientOp): unknown {
  if (op.kind !== "pub") return op;
  return {
    ...op,
    headers: op.headers === undefined ? undefined : Buffer.from(op.headers).toString("hex"),
    payload: Buffer.from(op.payload).toString("hex"),
  };
}

function collect(steps: readonly ParseStep[]): Parsed {
  const ops: unknown[] = [];
  let error: string | undefined;
  for (const s of steps) {
    for (const op of s.ops) ops.push(plain(op));
    if (s.error !== undefined && error === undefined) error = s.error.code;
  }
  return { ops, error };
}

function parseWhole(bytes: Uint8Array): Parsed {
  return collect([new ProtocolParser(LIMITS).feed(bytes)]);
}

function parseChunked(bytes: Uint8Array, next: Rng): Parsed {
  const parser = new ProtocolParser(LIMITS);
  const steps: ParseStep[] = [];
  let at = 0;
  while (at < bytes.length) {
    // Mostly small chunks (splits inside tokens and CRLFs), sometimes large ones.
    const size = next() < 0.8 ? int(next, 1, 8) : int(next, 1, 600);
    // Copy, so that the parser cannot rely on seeing the caller's buffer again.
    steps.push(parser.feed(bytes.slice(at, at + size)));
    at += size;
  }
  return collect(steps);
}

const FRAGMENTS = [
  "PUB ",
  "HPUB ",
  "SUB ",
  "UNSUB ",
  "PING",
  "PONG",
  "CONNECT ",
  "{}",
  "\r\n",
  "\n",
  " ",
  "\t",
  "foo",
  ".",
  "*",
  ">",
  "5",
  "12",
  "NATS/1.0",
  "99999999999",
];

/** Random bytes biased towards protocol tokens, so that the parser gets deep into its states. */
function noisyBytes(next: Rng): Uint8Array {
  const parts: Uint8Array[] = [];
  const n = int(next, 0, 40);
  for (let i = 0; i < n; i++) {
    if (next() < 0.5) parts.push(Buffer.from(pick(next, FRAGMENTS), "latin1"));
    else parts.push(Uint8Array.from({ length: int(next, 1, 12) }, () => int(next, 0, 255)));
  }
  return Buffer.concat(parts);
}

const TOKEN_CHARS = "abcXYZ019-_$";

function token(next: Rng): string {
  let t = "";
  for (let i = int(next, 1, 6); i > 0; i--) t += pick(next, [...TOKEN_CHARS]);
  return t;
}

function subject(next: Rng): string {
  return Array.from({ length: int(next, 1, 4) }, () => token(next)).join(".");
}

function sp(next: Rng): string {
  return next() < 0.8 ? " " : pick(next, ["  ", "\t", " \t "]);
}

function opName(next: Rng, name: string): string {
  // Operation names are case-insensitive.
  return [...name].map((c) => (next() < 0.3 ? c.toLowerCase() : c)).join("");
}

function payload(next: Rng, max: number): Uint8Array {
  // Any bytes, CR and LF included: the size, not the content, delimits a payload.
  return Uint8Array.from({ length: int(next, 0, max) }, () =>
    next() < 0.1 ? pick(next, [13, 10]) : int(next, 0, 255),
  );
}

/** A random valid client stream and the operations it must parse to. */
function validStream(next: Rng): { bytes: Uint8Array; ops: unknown[] } {
  const parts: Uint8Array[] = [];
  const ops: unknown[] = [];
  const eol = (): string => (next() < 0.9 ? "\r\n" : "\n");
  for (let i = int(next, 0, 25); i > 0; i--) {
    const kind = int(next, 0, 6);
    if (kind === 0) {
      const json = JSON.stringify({ verbose: next() < 0.5, name: token(next), lang: "ts é" });
      parts.push(Buffer.from(`${opName(next, "CONNECT")}${sp(next)}${json}${eol()}`, "utf8"));
      ops.push({ kind: "connect", json });
    } else if (kind === 1 || kind === 2) {
      const name = kind === 1 ? "PING" : "PONG";
      parts.push(Buffer.from(`${opName(next, name)}${eol()}`));
      ops.push({ kind: name.toLowerCase() });
    } else if (kind === 3) {
      const s = subject(next);
      const reply = next() < 0.5 ? subject(next) : undefined;
      const body = payload(next, 300);
      const r = reply === undefined ? "" : `${sp(next)}${reply}`;
      parts.push(
        Buffer.from(`${opName(next, "PUB")}${sp(next)}${s}${r}${sp(next)}${body.length}${eol()}`),
      );
      parts.push(body, Buffer.from("\r\n"));
      ops.push({
        kind: "pub",
        subject: s,
        reply,
        headers: undefined,
        payload: Buffer.from(body).toString("hex"),
      });
    } else if (kind === 4) {
      const s = subject(next);
      const reply = next() < 0.5 ? subject(next) : undefined;
      const headers = Buffer.from(`NATS/1.0\r\nX-${token(next)}: ${token(next)}\r\n\r\n`);
      const body = payload(next, 200);
      const r = reply === undefined ? "" : `${sp(next)}${reply}`;
      const total = headers.length + body.length;
      parts.push(
        Buffer.from(
          `${opName(next, "HPUB")}${sp(next)}${s}${r}${sp(next)}${headers.length}${sp(next)}${total}${eol()}`,
        ),
      );
      parts.push(headers, body, Buffer.from("\r\n"));
      ops.push({
        kind: "pub",
        subject: s,
        reply,
        headers: headers.toString("hex"),
        payload: Buffer.from(body).toString("hex"),
      });
    } else if (kind === 5) {
      const sid = String(int(next, 1, 9999));
      if (next() < 0.15) {
        // A line right at (or just under) the control-line limit, to probe it across chunk ends.
        const s = "a".repeat(LIMITS.maxControlLine - `SUB  ${sid}`.length - int(next, 0, 2));
        parts.push(Buffer.from(`SUB ${s} ${sid}${eol()}`));
        ops.push({ kind: "sub", subject: s, queue: undefined, sid });
        continue;
      }
      const s = next() < 0.5 ? subject(next) : `${subject(next)}.>`;
      const queue = next() < 0.4 ? token(next) : undefined;
      const q = queue === undefined ? "" : `${sp(next)}${queue}`;
      parts.push(Buffer.from(`${opName(next, "SUB")}${sp(next)}${s}${q}${sp(next)}${sid}${eol()}`));
      ops.push({ kind: "sub", subject: s, queue, sid });
    } else {
      const sid = String(int(next, 1, 9999));
      const max = next() < 0.5 ? int(next, 0, 100) : undefined;
      const m = max === undefined ? "" : `${sp(next)}${max}`;
      parts.push(Buffer.from(`${opName(next, "UNSUB")}${sp(next)}${sid}${m}${eol()}`));
      ops.push({ kind: "unsub", sid, max });
    }
  }
  return { bytes: Buffer.concat(parts), ops };
}

describe("ProtocolParser", () => {
  it("never throws on random bytes and gives the same result however they are chunked", () => {
    forAll(3_000, (next) => {
      const bytes = noisyBytes(next);
      const whole = parseWhole(bytes);
      expect(parseChunked(bytes, next)).toEqual(whole);
      if (whole.error !== undefined) expect(NATS_ERROR_CODES).toContain(whole.error);
    });
  });

  it("parses random valid streams to exactly their operations, in any chunking", () => {
    forAll(1_000, (next) => {
      const { bytes, ops } = validStream(next);
      const whole = parseWhole(bytes);
      expect(whole).toEqual({ ops, error: undefined });
      expect(parseChunked(bytes, next)).toEqual(whole);
    });
  });

  it("reports the same first error after a valid prefix, in any chunking, and then stays failed", () => {
    forAll(1_000, (next) => {
      const { bytes, ops } = validStream(next);
      const bad = Buffer.concat([
        bytes,
        Buffer.from(`${pick(next, ["FOO", "PUB a", "SUB", "PUB a 99999"])}\r\n`),
      ]);
      const whole = parseWhole(bad);
      expect(whole.ops).toEqual(ops);
      expect(whole.error).toBeDefined();
      expect(parseChunked(bad, next)).toEqual(whole);
    });
    const p = new ProtocolParser(LIMITS);
    expect(p.feed(Buffer.from("BOGUS\r\n")).error?.code).toBe("UNKNOWN_OP");
    expect(p.failed).toBe(true);
    expect(p.feed(Buffer.from("PING\r\n"))).toEqual({ ops: [], error: undefined });
  });

  it("fails a control line longer than the limit without waiting for its end", () => {
    const p = new ProtocolParser(LIMITS);
    // No line end at all: the parser must not buffer past the limit.
    const step = p.feed(Buffer.alloc(LIMITS.maxControlLine + 2, 0x61));
    expect(step.error?.code).toBe("MAX_CONTROL_LINE");
    // Exactly at the limit is fine.
    const line = `SUB ${"a".repeat(LIMITS.maxControlLine - 6)} 1`;
    expect(line.length).toBe(LIMITS.maxControlLine);
    expect(new ProtocolParser(LIMITS).feed(Buffer.from(`${line}\r\n`)).error).toBeUndefined();
    const byteWise = new ProtocolParser(LIMITS);
    const steps = [...Buffer.from(`${line}\r\n`)].map((b) => byteWise.feed(Uint8Array.of(b)));
    expect(steps.flatMap((s) => s.ops)).toHaveLength(1);
    expect(steps.every((s) => s.error === undefined)).toBe(true);
  });

  it("fails a payload over max_payload at its control line, before any payload arrives", () => {
    const step = new ProtocolParser(LIMITS).feed(Buffer.from(`PUB a ${LIMITS.maxPayload + 1}\r\n`));
    expect(step.error?.code).toBe("MAX_PAYLOAD");
    const hpub = new ProtocolParser(LIMITS).feed(
      Buffer.from(`HPUB a 10 ${LIMITS.maxPayload + 1}\r\n`),
    );
    expect(hpub.error?.code).toBe("MAX_PAYLOAD");
  });

  it("names the problem of malformed operations", () => {
    const code = (text: string): string | undefined =>
      new ProtocolParser(LIMITS).feed(Buffer.from(text, "latin1")).error?.code;
    expect(code("PUB a 3\r\nabcX\r\n")).toBe("BAD_PAYLOAD_END");
    expect(code("HPUB a 20 10\r\n")).toBe("BAD_ARGUMENTS");
    expect(code("PUB a b c 3\r\n")).toBe("BAD_ARGUMENTS");
    expect(code("PUB a -3\r\n")).toBe("BAD_ARGUMENTS");
    expect(code("SUB a\r\n")).toBe("BAD_ARGUMENTS");
    expect(code("UNSUB 1 x\r\n")).toBe("BAD_ARGUMENTS");
    expect(code("PING now\r\n")).toBe("BAD_ARGUMENTS");
    expect(code("CONNECT\r\n")).toBe("BAD_ARGUMENTS");
    expect(code("MSG a 1 2\r\n")).toBe("UNKNOWN_OP");
    expect(code("\u00ff\r\n")).toBe("UNKNOWN_OP");
    expect(code("\r\n \r\nPING\r\n")).toBeUndefined();
  });
});

/** Runs `f`; returns "ok", or the NatsError code it threw (anything else fails the test). */
function outcome(f: () => unknown): string {
  try {
    f();
    return "ok";
  } catch (error) {
    expect(error).toBeInstanceOf(NatsError);
    return (error as NatsError).code;
  }
}

describe("CONNECT options and header blocks", () => {
  it("parse random input or throw a NatsError, never anything else", () => {
    const jsonish = [
      "{",
      "}",
      '"verbose"',
      ":",
      "true",
      "1",
      ",",
      '"no_responders"',
      '"headers"',
      "null",
      "[",
      "]",
      '"',
    ];
    forAll(2_000, (next) => {
      const text = Array.from({ length: int(next, 0, 12) }, () => pick(next, jsonish)).join("");
      expect(["ok", "BAD_CONNECT"]).toContain(outcome(() => parseConnectOptions(text)));
      const bytes =
        next() < 0.5
          ? noisyBytes(next)
          : Buffer.concat([Buffer.from("NATS/1.0"), noisyBytes(next)]);
      expect(["ok", "BAD_HEADERS"]).toContain(outcome(() => decodeHeaders(bytes)));
    });
  });

  it("decode what they encode", () => {
    forAll(500, (next) => {
      const fields = Array.from(
        { length: int(next, 0, 4) },
        () => [`X-${token(next)}`, token(next)] as const,
      );
      const status = next() < 0.5 ? int(next, 100, 599) : undefined;
      const block = encodeHeaders(
        status === undefined ? { fields } : { status, description: "Some Reason", fields },
      );
      const decoded = decodeHeaders(block);
      expect(decoded.status).toBe(status);
      expect(decoded.fields).toEqual(fields.map(([k, v]) => [k, v]));
      if (status !== undefined) expect(decoded.description).toBe("Some Reason");
    });
    expect(
      parseConnectOptions(
        '{"verbose":true,"echo":false,"headers":true,"no_responders":true,"lang":"x"}',
      ),
    ).toEqual({
      verbose: true,
      pedantic: false,
      echo: false,
      headers: true,
      noResponders: true,
      name: undefined,
    });
    expect(outcome(() => parseConnectOptions('{"verbose":"yes"}'))).toBe("BAD_CONNECT");
  });
});

describe("bridge frames", () => {
  it("decode random bytes or throw BAD_BRIDGE_FRAME, and decode what they encode", () => {
    forAll(2_000, (next) => {
      const random =
        next() < 0.5
          ? noisyBytes(next)
          : Buffer.concat([Uint8Array.of(1, int(next, 0, 4)), noisyBytes(next)]);
      expect(["ok", "BAD_BRIDGE_FRAME"]).toContain(outcome(() => decodeBridgeFrame(random)));
      const frame = {
        origin: token(next),
        sequence: int(next, 0, 2 ** 32 - 1),
        servedGroups: Array.from({ length: int(next, 0, 3) }, () => token(next)),
        headers: next() < 0.5 ? undefined : payload(next, 40),
        payload: payload(next, 100),
      };
      const bytes = encodeBridgeFrame(frame);
      const back = decodeBridgeFrame(bytes);
      expect({
        ...back,
        headers: back.headers && [...back.headers],
        payload: [...back.payload],
      }).toEqual({
        ...frame,
        headers: frame.headers && [...frame.headers],
        payload: [...frame.payload],
      });
      // Every strict prefix that cuts into the fixed fields or a length-prefixed part is refused.
      const cut = int(next, 0, bytes.length - frame.payload.length - 1);
      expect(outcome(() => decodeBridgeFrame(bytes.subarray(0, cut)))).toBe("BAD_BRIDGE_FRAME");
    });
  });
});
