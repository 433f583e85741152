import { FabricError } from "./fabric-error";
import { isValidPattern, isValidSubject } from "./subject";

/**
 * The route protocol's frames (docs/design/fabric.md, "Route protocol"). Every frame is
 * `u32 LE length | u8 op | body`, where `length` counts the op byte and the body. Strings are
 * `u16 LE byte length | UTF-8`. Pure code: no IO, no Node APIs.
 */

/** The protocol version carried in HELLO; a peer with another version is refused. */
export const ROUTE_PROTOCOL_VERSION = 1;

/** The four bytes that open every HELLO body ("RFAB"), so a stray client is refused at once. */
export const ROUTE_MAGIC: Uint8Array = Uint8Array.of(0x52, 0x46, 0x41, 0x42);

/** Operation codes. */
export const RouteOp = {
  Hello: 1,
  Sub: 2,
  Unsub: 3,
  Msg: 4,
  Ping: 5,
  Pong: 6,
  Err: 7,
} as const;

/** One of the values of {@link RouteOp}. */
export type RouteOp = (typeof RouteOp)[keyof typeof RouteOp];

/** A decoded frame. `data` of a MSG is a view into the reader's buffer, never reused by it. */
export type RouteFrame =
  | {
      readonly op: typeof RouteOp.Hello;
      readonly version: number;
      readonly serverName: string;
      readonly clusterName: string;
    }
  | { readonly op: typeof RouteOp.Sub; readonly subject: string }
  | { readonly op: typeof RouteOp.Unsub; readonly subject: string }
  | {
      readonly op: typeof RouteOp.Msg;
      readonly subject: string;
      readonly reply: string | undefined;
      readonly data: Uint8Array;
    }
  | { readonly op: typeof RouteOp.Ping }
  | { readonly op: typeof RouteOp.Pong }
  | { readonly op: typeof RouteOp.Err; readonly message: string };

/** Bytes before the body: the u32 length and the op. */
export const FRAME_HEADER_BYTES = 5;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes one frame. Strings longer than 65535 UTF-8 bytes throw `BAD_FRAME`. */
export function encodeRouteFrame(frame: RouteFrame): Uint8Array {
  switch (frame.op) {
    case RouteOp.Hello:
      return build(frame.op, [
        ROUTE_MAGIC,
        Uint8Array.of(frame.version & 0xff),
        str(frame.serverName),
        str(frame.clusterName),
      ]);
    case RouteOp.Sub:
    case RouteOp.Unsub:
      return build(frame.op, [str(frame.subject)]);
    case RouteOp.Msg:
      return encodeMsgFrame(frame.subject, frame.reply, frame.data);
    case RouteOp.Ping:
    case RouteOp.Pong:
      return build(frame.op, []);
    case RouteOp.Err:
      return build(frame.op, [str(frame.message)]);
  }
}

/** Encodes a MSG frame directly (the hot path). */
export function encodeMsgFrame(
  subject: string,
  reply: string | undefined,
  data: Uint8Array,
): Uint8Array {
  const replyText = reply ?? "";
  // One allocation: the length is exact, so strings can be written in place.
  const length = msgFrameLength(subject, reply, data.length);
  const subjectBytes = length - 5 - data.length - utf8Length(replyText);
  const replyBytes = length - 5 - data.length - subjectBytes;
  if (subjectBytes > 0xffff || replyBytes > 0xffff) {
    throw new FabricError("BAD_FRAME", "string longer than 65535 bytes");
  }
  const out = new Uint8Array(4 + length);
  writeU32(out, 0, length);
  out[4] = RouteOp.Msg;
  let offset = writeString(out, FRAME_HEADER_BYTES, subject, subjectBytes);
  offset = writeString(out, offset, replyText, replyBytes);
  out.set(data, offset);
  return out;
}

function writeString(out: Uint8Array, offset: number, value: string, byteLength: number): number {
  out[offset] = byteLength & 0xff;
  out[offset + 1] = byteLength >>> 8;
  const start = offset + 2;
  if (byteLength === value.length) {
    // ASCII (the NRG case): byte length equals code units only when every unit is below 0x80.
    for (let i = 0; i < value.length; i++) out[start + i] = value.charCodeAt(i);
  } else {
    encoder.encodeInto(value, out.subarray(start, start + byteLength));
  }
  return start + byteLength;
}

/** The `length` field (op byte + body) of a MSG frame carrying these fields. */
export function msgFrameLength(
  subject: string,
  reply: string | undefined,
  dataBytes: number,
): number {
  return (
    1 + 2 + utf8Length(subject) + 2 + (reply === undefined ? 0 : utf8Length(reply)) + dataBytes
  );
}

function utf8Length(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

function str(value: string): Uint8Array {
  const bytes = encoder.encode(value);
  if (bytes.length > 0xffff) throw new FabricError("BAD_FRAME", "string longer than 65535 bytes");
  const out = new Uint8Array(2 + bytes.length);
  out[0] = bytes.length & 0xff;
  out[1] = bytes.length >>> 8;
  out.set(bytes, 2);
  return out;
}

function build(op: RouteOp, parts: readonly Uint8Array[]): Uint8Array {
  let bodyLength = 0;
  for (const part of parts) bodyLength += part.length;
  const out = new Uint8Array(FRAME_HEADER_BYTES + bodyLength);
  writeU32(out, 0, 1 + bodyLength);
  out[4] = op;
  let offset = FRAME_HEADER_BYTES;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function writeU32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = (value >>> 8) & 0xff;
  out[offset + 2] = (value >>> 16) & 0xff;
  out[offset + 3] = (value >>> 24) & 0xff;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] ?? 0) |
      ((bytes[offset + 1] ?? 0) << 8) |
      ((bytes[offset + 2] ?? 0) << 16) |
      ((bytes[offset + 3] ?? 0) << 24)) >>>
    0
  );
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] ?? 0) >= 0x80) return false;
  return true;
}

/** A bounds-checked cursor over one frame body; every failure is `BAD_FRAME`. */
class BodyCursor {
  private offset = 0;
  private readonly body: Uint8Array;
  private readonly opName: string;

  constructor(body: Uint8Array, opName: string) {
    this.body = body;
    this.opName = opName;
  }

  bytes(n: number): Uint8Array {
    if (this.offset + n > this.body.length) this.fail(`needs ${n} more bytes`);
    const out = this.body.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  string(): string {
    const lenBytes = this.bytes(2);
    const len = (lenBytes[0] ?? 0) | ((lenBytes[1] ?? 0) << 8);
    const raw = this.bytes(len);
    if (len <= 64 && isAscii(raw)) return String.fromCharCode(...raw);
    try {
      return decoder.decode(raw);
    } catch (err) {
      if (err instanceof FabricError) throw err;
      return this.fail("string is not valid UTF-8");
    }
  }

  rest(): Uint8Array {
    const out = this.body.subarray(this.offset);
    this.offset = this.body.length;
    return out;
  }

  end(): void {
    if (this.offset !== this.body.length) {
      this.fail(`has ${this.body.length - this.offset} trailing bytes`);
    }
  }

  fail(why: string): never {
    throw new FabricError("BAD_FRAME", `${this.opName} frame ${why}`);
  }
}

/**
 * Decodes the body of one frame whose op byte is `op`.
 * @throws FabricError `UNKNOWN_OP`, `BAD_FRAME` (lengths, UTF-8, subject syntax, trailing bytes).
 */
export function decodeRouteFrame(op: number, body: Uint8Array): RouteFrame {
  switch (op) {
    case RouteOp.Hello: {
      const c = new BodyCursor(body, "HELLO");
      const magic = c.bytes(ROUTE_MAGIC.length);
      if (!magic.every((b, i) => b === ROUTE_MAGIC[i])) c.fail("has a wrong magic");
      const version = c.bytes(1)[0] ?? 0;
      const serverName = c.string();
      const clusterName = c.string();
      c.end();
      if (serverName.length === 0) c.fail("has an empty server name");
      return { op: RouteOp.Hello, version, serverName, clusterName };
    }
    case RouteOp.Sub:
    case RouteOp.Unsub: {
      const c = new BodyCursor(body, op === RouteOp.Sub ? "SUB" : "UNSUB");
      const subject = c.string();
      c.end();
      if (!isValidPattern(subject)) c.fail("has an invalid subject");
      return { op, subject };
    }
    case RouteOp.Msg: {
      const c = new BodyCursor(body, "MSG");
      const subject = c.string();
      const reply = c.string();
      if (!isValidSubject(subject)) c.fail("has an invalid subject");
      if (reply !== "" && !isValidSubject(reply)) c.fail("has an invalid reply subject");
      return { op, subject, reply: reply === "" ? undefined : reply, data: c.rest() };
    }
    case RouteOp.Ping:
    case RouteOp.Pong: {
      new BodyCursor(body, op === RouteOp.Ping ? "PING" : "PONG").end();
      return { op };
    }
    case RouteOp.Err: {
      const c = new BodyCursor(body, "ERR");
      const message = c.string();
      c.end();
      return { op, message };
    }
    default:
      throw new FabricError("UNKNOWN_OP", `unknown route op ${op}`);
  }
}

/**
 * Splits a byte stream into frames. Feed it chunks as they arrive; it keeps at most one partial
 * frame, preallocated at its declared size, so a large frame split into many chunks is copied once.
 */
export class RouteFrameReader {
  private readonly maxFrameBytes: number;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private body: Uint8Array | undefined;
  private bodyFill = 0;
  private op = 0;

  /** `maxFrameBytes` bounds the declared length (op byte plus body). */
  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Whether a frame is partially read (a close now would truncate it). */
  get midFrame(): boolean {
    return this.headerFill > 0 || this.body !== undefined;
  }

  /**
   * Consumes `chunk` and returns the frames it completes, in order. After a throw the reader is
   * unusable: the stream has lost framing and the connection must be closed.
   * @throws FabricError `FRAME_TOO_LARGE`, `BAD_FRAME`, `UNKNOWN_OP`.
   */
  push(chunk: Uint8Array): RouteFrame[] {
    const frames: RouteFrame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body === undefined) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - offset);
        // Fast path: a whole frame inside the chunk needs no copy at all.
        if (this.headerFill === 0 && chunk.length - offset >= FRAME_HEADER_BYTES) {
          const length = this.checkLength(readU32(chunk, offset));
          const end = offset + 4 + length;
          if (end <= chunk.length) {
            frames.push(decodeRouteFrame(chunk[offset + 4] ?? 0, chunk.subarray(offset + 5, end)));
            offset = end;
            continue;
          }
        }
        this.header.set(chunk.subarray(offset, offset + take), this.headerFill);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        const length = this.checkLength(readU32(this.header, 0));
        this.op = this.header[4] ?? 0;
        this.headerFill = 0;
        if (length === 1) {
          frames.push(decodeRouteFrame(this.op, new Uint8Array(0)));
          continue;
        }
        this.body = new Uint8Array(length - 1);
        this.bodyFill = 0;
      }
      const body = this.body;
      const take = Math.min(body.length - this.bodyFill, chunk.length - offset);
      body.set(chunk.subarray(offset, offset + take), this.bodyFill);
      this.bodyFill += take;
      offset += take;
      if (this.bodyFill === body.length) {
        this.body = undefined;
        frames.push(decodeRouteFrame(this.op, body));
      }
    }
    return frames;
  }

  private checkLength(length: number): number {
    if (length === 0) throw new FabricError("BAD_FRAME", "frame length 0 has no op byte");
    if (length > this.maxFrameBytes) {
      throw new FabricError(
        "FRAME_TOO_LARGE",
        `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`,
      );
    }
    return length;
  }
}
