import { NatsError } from "./nats-error";

/**
 * The frame a node wraps around a client message it forwards to other nodes over the route
 * fabric (whose messages carry a subject, a reply and opaque bytes, but no headers).
 *
 * Layout (big-endian): `u8 version (1)` · `u8 origin length` · origin (UTF-8) · `u32 sequence` ·
 * `u8 flags (bit 0: has headers)` · `u16 served-group count` · per group `u16 length` + name
 * (Latin-1) · if headers: `u32 length` + header block · payload (the rest).
 */
export interface BridgeFrame {
  /** The forwarding node's server name. */
  readonly origin: string;
  /** Per-origin sequence number (wraps at 2^32); identifies one forwarded message. */
  readonly sequence: number;
  /** Queue groups that already got the message on the origin node (receivers skip them). */
  readonly servedGroups: readonly string[];
  readonly headers: Uint8Array | undefined;
  readonly payload: Uint8Array;
}

const VERSION = 1;
/** Upper bounds that keep a damaged frame from claiming absurd sizes. */
const MAX_ORIGIN_BYTES = 255;
const MAX_GROUPS = 1024;

/**
 * Encodes a frame. Group names are Latin-1 strings (one byte per character), like every subject
 * token the listener parses.
 *
 * @throws NatsError `BAD_BRIDGE_FRAME` when the origin is longer than 255 bytes, there are more
 *   than 1,024 groups, or a group name is longer than 65,535 bytes (callers never produce those).
 */
export function encodeBridgeFrame(frame: BridgeFrame): Uint8Array {
  const origin = Buffer.from(frame.origin, "utf8");
  if (origin.length > MAX_ORIGIN_BYTES || frame.servedGroups.length > MAX_GROUPS) {
    throw new NatsError("BAD_BRIDGE_FRAME", "origin or group list too long to forward");
  }
  const groups = frame.servedGroups.map((g) => Buffer.from(g, "latin1"));
  if (groups.some((g) => g.length > 0xffff)) {
    throw new NatsError("BAD_BRIDGE_FRAME", "queue group name too long to forward");
  }
  const headerBytes = frame.headers === undefined ? 0 : 4 + frame.headers.length;
  const size =
    1 +
    1 +
    origin.length +
    4 +
    1 +
    2 +
    groups.reduce((n, g) => n + 2 + g.length, 0) +
    headerBytes +
    frame.payload.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(VERSION, 0);
  at = out.writeUInt8(origin.length, at);
  at += origin.copy(out, at);
  at = out.writeUInt32BE(frame.sequence >>> 0, at);
  at = out.writeUInt8(frame.headers === undefined ? 0 : 1, at);
  at = out.writeUInt16BE(groups.length, at);
  for (const g of groups) {
    at = out.writeUInt16BE(g.length, at);
    at += g.copy(out, at);
  }
  if (frame.headers !== undefined) {
    at = out.writeUInt32BE(frame.headers.length, at);
    out.set(frame.headers, at);
    at += frame.headers.length;
  }
  out.set(frame.payload, at);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Decodes a frame. The returned headers and payload are views into `bytes`.
 *
 * @throws NatsError `BAD_BRIDGE_FRAME` on an unknown version, unknown flag bits, or a length
 *   that runs past the end of `bytes`.
 */
export function decodeBridgeFrame(bytes: Uint8Array): BridgeFrame {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number): void => {
    if (at + n > bytes.length) {
      throw new NatsError("BAD_BRIDGE_FRAME", `forwarded frame truncated at byte ${at}`);
    }
  };
  need(2);
  const version = view.getUint8(0);
  if (version !== VERSION) {
    throw new NatsError("BAD_BRIDGE_FRAME", `unknown forwarded frame version ${version}`);
  }
  const originLength = view.getUint8(1);
  at = 2;
  need(originLength);
  const origin = new TextDecoder().decode(bytes.subarray(at, at + originLength));
  at += originLength;
  need(4 + 1 + 2);
  const sequence = view.getUint32(at);
  const flags = view.getUint8(at + 4);
  if ((flags & ~1) !== 0) throw new NatsError("BAD_BRIDGE_FRAME", `unknown flags ${flags}`);
  const groupCount = view.getUint16(at + 5);
  at += 7;
  if (groupCount > MAX_GROUPS) {
    throw new NatsError("BAD_BRIDGE_FRAME", `too many queue groups (${groupCount})`);
  }
  const servedGroups: string[] = [];
  for (let i = 0; i < groupCount; i++) {
    need(2);
    const length = view.getUint16(at);
    at += 2;
    need(length);
    servedGroups.push(Buffer.from(bytes.buffer, bytes.byteOffset + at, length).toString("latin1"));
    at += length;
  }
  let headers: Uint8Array | undefined;
  if ((flags & 1) === 1) {
    need(4);
    const length = view.getUint32(at);
    at += 4;
    need(length);
    headers = bytes.subarray(at, at + length);
    at += length;
  }
  return { origin, sequence, servedGroups, headers, payload: bytes.subarray(at) };
}
