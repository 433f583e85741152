import { NatsError } from "./nats-error";

/** An operation a client sent, fully received. */
export type ClientOp =
  | { readonly kind: "connect"; readonly json: string }
  | { readonly kind: "ping" }
  | { readonly kind: "pong" }
  | {
      readonly kind: "pub";
      readonly subject: string;
      readonly reply: string | undefined;
      /** The header block of an `HPUB` (`NATS/1.0…\r\n\r\n`), `undefined` for a `PUB`. */
      readonly headers: Uint8Array | undefined;
      readonly payload: Uint8Array;
    }
  | {
      readonly kind: "sub";
      readonly subject: string;
      readonly queue: string | undefined;
      readonly sid: string;
    }
  | { readonly kind: "unsub"; readonly sid: string; readonly max: number | undefined };

/** Bounds of a {@link ProtocolParser}. */
export interface ParserLimits {
  /** Longest control line in bytes, without its line end. */
  readonly maxControlLine: number;
  /** Largest `PUB` payload, or `HPUB` headers plus payload, in bytes. */
  readonly maxPayload: number;
}

/** What one {@link ProtocolParser.feed} produced. */
export interface ParseStep {
  /** Every operation completed by the bytes fed, in order. */
  readonly ops: readonly ClientOp[];
  /** The first protocol error; once set, the parser is failed and ignores further input. */
  readonly error: NatsError | undefined;
}

interface PendingPayload {
  readonly subject: string;
  readonly reply: string | undefined;
  /** Header bytes at the start of the payload; -1 for a `PUB`. */
  readonly headerBytes: number;
  /** Payload bytes plus the 2 of the trailing `\r\n`. */
  readonly need: number;
  readonly chunks: Uint8Array[];
  got: number;
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);
const SIZE = /^\d{1,10}$/;

/**
 * An incremental parser of the client side of the NATS text protocol. Bytes may arrive in any
 * chunking: feeding a stream in one piece or split anywhere yields the same operations and the
 * same first error. Lines end in `\r\n` (a bare `\n` is accepted, as nats-server does); operation
 * names are case-insensitive; arguments are separated by spaces or tabs; empty lines are skipped.
 * Memory is bounded by `maxControlLine` plus one payload of at most `maxPayload` bytes: a longer
 * line or a larger announced payload fails the parser before anything more is buffered.
 * Subjects, queue names and sids are returned as Latin-1 strings (one character per byte), so
 * they round-trip byte for byte when written back with Latin-1.
 */
export class ProtocolParser {
  readonly #limits: ParserLimits;
  #rest: Uint8Array = EMPTY;
  #pending: PendingPayload | undefined;
  #failed = false;

  /** A parser waiting for the first byte of a control line. */
  constructor(limits: ParserLimits) {
    this.#limits = limits;
  }

  /** True once a protocol error was returned. */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Consumes `chunk` (the parser does not keep a reference to it beyond this call, except for
   * copies of an incomplete line or payload). Never throws on any input.
   */
  feed(chunk: Uint8Array): ParseStep {
    const ops: ClientOp[] = [];
    if (this.#failed) return { ops, error: undefined };
    let data = chunk;
    if (this.#rest.length > 0) {
      data = concat([this.#rest, chunk], this.#rest.length + chunk.length);
      this.#rest = EMPTY;
    }
    let pos = 0;
    while (pos < data.length) {
      const pending = this.#pending;
      if (pending !== undefined) {
        const take = Math.min(pending.need - pending.got, data.length - pos);
        // Copy: the socket may reuse its buffer after this call.
        pending.chunks.push(data.slice(pos, pos + take));
        pending.got += take;
        pos += take;
        if (pending.got < pending.need) break;
        this.#pending = undefined;
        const op = finishPayload(pending);
        if (op instanceof NatsError) return this.#fail(ops, op);
        ops.push(op);
        continue;
      }
      const lf = data.indexOf(LF, pos);
      if (lf === -1) {
        const remaining = data.length - pos;
        // One more byte may still be the `\r` of the line end.
        if (remaining > this.#limits.maxControlLine + 1) {
          return this.#fail(ops, controlLineError(this.#limits.maxControlLine));
        }
        this.#rest = data.slice(pos);
        break;
      }
      const end = lf > pos && data[lf - 1] === CR ? lf - 1 : lf;
      if (end - pos > this.#limits.maxControlLine) {
        return this.#fail(ops, controlLineError(this.#limits.maxControlLine));
      }
      const lineStart = pos;
      pos = lf + 1;
      const r = this.#parseLine(data, lineStart, end);
      if (r instanceof NatsError) return this.#fail(ops, r);
      if (r !== undefined) ops.push(r);
    }
    return { ops, error: undefined };
  }

  #fail(ops: ClientOp[], error: NatsError): ParseStep {
    this.#failed = true;
    this.#rest = EMPTY;
    this.#pending = undefined;
    return { ops, error };
  }

  /** An op, `undefined` for an empty line or a payload op whose payload is now pending. */
  #parseLine(data: Uint8Array, start: number, end: number): ClientOp | NatsError | undefined {
    const line = latin1(data, start, end);
    const trimmed = line.replace(/^[ \t]+/, "");
    if (trimmed.trim() === "") return undefined;
    const opMatch = /^[^ \t]+/.exec(trimmed);
    const opName = (opMatch?.[0] ?? "").toUpperCase();
    const argsText = trimmed.slice(opMatch?.[0].length ?? 0);
    const args = argsText.split(/[ \t]+/).filter((a) => a !== "");
    switch (opName) {
      case "CONNECT": {
        // JSON is UTF-8; re-decode the bytes after the op name.
        const offset = start + (line.length - trimmed.length) + opName.length;
        const json = new TextDecoder().decode(data.subarray(offset, end)).trim();
        if (json === "") return new NatsError("BAD_ARGUMENTS", "CONNECT needs a JSON object");
        return { kind: "connect", json };
      }
      case "PING":
      case "PONG":
        if (args.length > 0) {
          return new NatsError("BAD_ARGUMENTS", `${opName} takes no arguments`);
        }
        return { kind: opName === "PING" ? "ping" : "pong" };
      case "PUB":
        return this.#payloadOp(args, false);
      case "HPUB":
        return this.#payloadOp(args, true);
      case "SUB": {
        if (args.length !== 2 && args.length !== 3) {
          return new NatsError("BAD_ARGUMENTS", "SUB needs: <subject> [queue group] <sid>");
        }
        const [subject, second, third] = args as [string, string, string | undefined];
        return third === undefined
          ? { kind: "sub", subject, queue: undefined, sid: second }
          : { kind: "sub", subject, queue: second, sid: third };
      }
      case "UNSUB": {
        if (args.length !== 1 && args.length !== 2) {
          return new NatsError("BAD_ARGUMENTS", "UNSUB needs: <sid> [max_msgs]");
        }
        const [sid, maxText] = args as [string, string | undefined];
        if (maxText === undefined) return { kind: "unsub", sid, max: undefined };
        if (!SIZE.test(maxText)) {
          return new NatsError("BAD_ARGUMENTS", "UNSUB max_msgs must be a whole number");
        }
        return { kind: "unsub", sid, max: Number(maxText) };
      }
      default:
        return new NatsError(
          "UNKNOWN_OP",
          `unknown operation ${JSON.stringify(opName.slice(0, 16))}`,
        );
    }
  }

  #payloadOp(args: readonly string[], withHeaders: boolean): NatsError | undefined {
    const op = withHeaders ? "HPUB" : "PUB";
    const sizes = withHeaders ? 2 : 1;
    if (args.length !== sizes + 1 && args.length !== sizes + 2) {
      return new NatsError(
        "BAD_ARGUMENTS",
        withHeaders
          ? "HPUB needs: <subject> [reply] <header size> <total size>"
          : "PUB needs: <subject> [reply] <size>",
      );
    }
    const subject = args[0] as string;
    const reply = args.length === sizes + 2 ? args[1] : undefined;
    const sizeTexts = args.slice(args.length - sizes);
    if (!sizeTexts.every((s) => SIZE.test(s))) {
      return new NatsError("BAD_ARGUMENTS", `${op} sizes must be whole numbers`);
    }
    const total = Number(sizeTexts[sizes - 1]);
    const headerBytes = withHeaders ? Number(sizeTexts[0]) : -1;
    if (total > this.#limits.maxPayload) {
      return new NatsError(
        "MAX_PAYLOAD",
        `${op} of ${total} bytes exceeds max_payload ${this.#limits.maxPayload}`,
      );
    }
    if (withHeaders && headerBytes > total) {
      return new NatsError("BAD_ARGUMENTS", "HPUB header size exceeds its total size");
    }
    this.#pending = { subject, reply, headerBytes, need: total + 2, chunks: [], got: 0 };
    return undefined;
  }
}

function finishPayload(p: PendingPayload): ClientOp | NatsError {
  const all = p.chunks.length === 1 ? (p.chunks[0] as Uint8Array) : concat(p.chunks, p.need);
  if (all[p.need - 2] !== CR || all[p.need - 1] !== LF) {
    return new NatsError(
      "BAD_PAYLOAD_END",
      "payload is not followed by CRLF at its announced size",
    );
  }
  const body = all.subarray(0, p.need - 2);
  if (p.headerBytes < 0) {
    return { kind: "pub", subject: p.subject, reply: p.reply, headers: undefined, payload: body };
  }
  return {
    kind: "pub",
    subject: p.subject,
    reply: p.reply,
    headers: body.subarray(0, p.headerBytes),
    payload: body.subarray(p.headerBytes),
  };
}

function controlLineError(max: number): NatsError {
  return new NatsError("MAX_CONTROL_LINE", `control line longer than ${max} bytes`);
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function latin1(data: Uint8Array, start: number, end: number): string {
  return Buffer.from(data.buffer, data.byteOffset + start, end - start).toString("latin1");
}
