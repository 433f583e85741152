/**
 * Internal little-endian readers and writers shared by the frame codecs. Only `isNodeId` is part
 * of the package's surface: the frame functions are the contract. Reads assume the caller checked bounds first;
 * writes assume the caller validated the value (see `checkU64` and friends).
 */
import { CodecError } from "./errors";
import { NODE_ID_LENGTH } from "./types";

const TWO_POW_32 = 0x1_0000_0000;
/** The largest high word of a u64 whose value is still ≤ Number.MAX_SAFE_INTEGER (2^53 − 1). */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;

/** Reads a u16 at `offset`. */
export function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
}

/** Reads a u32 at `offset`. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] as number) |
      ((bytes[offset + 1] as number) << 8) |
      ((bytes[offset + 2] as number) << 16)) +
    (bytes[offset + 3] as number) * 0x100_0000
  );
}

/** Reads a u64 at `offset`; a value above Number.MAX_SAFE_INTEGER is a VALUE_TOO_LARGE error. */
export function readU64(bytes: Uint8Array, offset: number, field: string): number {
  const low = readU32(bytes, offset);
  const high = readU32(bytes, offset + 4);
  if (high > MAX_SAFE_HIGH_WORD) {
    throw new CodecError(
      "VALUE_TOO_LARGE",
      `${field} at offset ${offset} exceeds Number.MAX_SAFE_INTEGER`,
    );
  }
  return high * TWO_POW_32 + low;
}

/** Writes a u16 at `offset`. */
export function writeU16(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = (value >>> 8) & 0xff;
}

/** Writes a u32 at `offset`. */
export function writeU32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = (value >>> 8) & 0xff;
  out[offset + 2] = (value >>> 16) & 0xff;
  out[offset + 3] = (value >>> 24) & 0xff;
}

/** Writes a u64 (a safe integer) at `offset`. */
export function writeU64(out: Uint8Array, offset: number, value: number): void {
  writeU32(out, offset, value >>> 0);
  writeU32(out, offset + 4, Math.floor(value / TWO_POW_32));
}

/** Checks that `value` can be written into an unsigned field whose largest value is `max`. */
export function checkUnsigned(value: number, max: number, field: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new CodecError("BAD_NUMBER", `${field} must be a non-negative integer, got ${value}`);
  }
  if (value > max) {
    throw new CodecError("VALUE_TOO_LARGE", `${field} ${value} exceeds its maximum ${max}`);
  }
}

/** Checks a value for a u64 field (carried as a safe integer). */
export function checkU64(value: number, field: string): void {
  checkUnsigned(value, Number.MAX_SAFE_INTEGER, field);
}

/** True for the bytes a node id may contain: printable ASCII without space (0x21–0x7e). */
function isIdByte(code: number): boolean {
  return code >= 0x21 && code <= 0x7e;
}

/**
 * True when `id` is a valid node id: exactly 8 printable ASCII characters without spaces. Ids made
 * by {@link nodeIdFromServerName} are base-62 and always pass.
 */
export function isNodeId(id: string): boolean {
  if (typeof id !== "string" || id.length !== NODE_ID_LENGTH) return false;
  for (let i = 0; i < NODE_ID_LENGTH; i++) {
    if (!isIdByte(id.charCodeAt(i))) return false;
  }
  return true;
}

/** Writes an id already accepted by {@link checkNodeId}; `""` becomes 8 zero bytes. */
export function writeCheckedNodeId(out: Uint8Array, offset: number, id: string): void {
  if (id === "") {
    out.fill(0, offset, offset + NODE_ID_LENGTH);
    return;
  }
  for (let i = 0; i < NODE_ID_LENGTH; i++) out[offset + i] = id.charCodeAt(i);
}

/** Checks a node id without writing it (for size computations that precede allocation). */
export function checkNodeId(id: string, field: string, allowEmpty: boolean): void {
  if (allowEmpty && id === "") return;
  if (!isNodeId(id)) {
    throw new CodecError(
      "BAD_NODE_ID",
      `${field} must be ${NODE_ID_LENGTH} printable ASCII characters${allowEmpty ? ' or ""' : ""}, got ${JSON.stringify(id)}`,
    );
  }
}

// The last id decoded and its bytes as two u32 words. Frames from one leader or peer arrive in
// long runs, so reusing the string saves building it for nearly every frame.
let cachedIdLow = -1;
let cachedIdHigh = -1;
let cachedId = "";

/**
 * Reads the node id at `offset`. Eight zero bytes decode as `""` when `allowEmpty`; anything else
 * must be printable ASCII (a mix of zero and non-zero bytes is never a valid id).
 */
export function readNodeId(
  bytes: Uint8Array,
  offset: number,
  field: string,
  allowEmpty: boolean,
): string {
  const low = readU32(bytes, offset);
  const high = readU32(bytes, offset + 4);
  if (low === cachedIdLow && high === cachedIdHigh) return cachedId;
  let zeros = 0;
  let printable = 0;
  for (let i = 0; i < NODE_ID_LENGTH; i++) {
    const code = bytes[offset + i] as number;
    if (code === 0) zeros++;
    else if (isIdByte(code)) printable++;
  }
  if (zeros === NODE_ID_LENGTH && allowEmpty) return "";
  if (printable !== NODE_ID_LENGTH) {
    throw new CodecError("BAD_NODE_ID", `${field} at offset ${offset} is not a valid node id`);
  }
  const id = String.fromCharCode(
    bytes[offset] as number,
    bytes[offset + 1] as number,
    bytes[offset + 2] as number,
    bytes[offset + 3] as number,
    bytes[offset + 4] as number,
    bytes[offset + 5] as number,
    bytes[offset + 6] as number,
    bytes[offset + 7] as number,
  );
  // Only valid, non-empty ids are cached, so a cache hit needs no validation.
  cachedIdLow = low;
  cachedIdHigh = high;
  cachedId = id;
  return id;
}

/** Frames up to this size are carved from a shared slab; larger ones get their own array. */
export const POOLED_FRAME_BYTES_MAX = 4096;
const SLAB_BYTES = 64 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabOffset = 0;

/**
 * Returns `buffer.subarray(0, size)` when a buffer of at least `size` bytes was supplied, else a
 * new array of `size` bytes that only the caller references.
 *
 * Why a slab: allocating a small typed array costs more than encoding a small frame (each one gets
 * its own ArrayBuffer), so frames up to 4 KiB are handed out as disjoint views of a shared 64 KiB
 * ArrayBuffer, as Node's Buffer pool does. A region is never handed out twice (a full slab is
 * dropped, not recycled), so views start zeroed and never alias; only their `.buffer` is shared.
 */
export function outputBuffer(size: number, buffer: Uint8Array | undefined): Uint8Array {
  if (buffer !== undefined && buffer.length >= size) return buffer.subarray(0, size);
  if (size > POOLED_FRAME_BYTES_MAX) return new Uint8Array(size);
  if (slabOffset + size > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabOffset = 0;
  }
  const view = new Uint8Array(slab.buffer, slabOffset, size);
  // Keep views 8-byte aligned, so a caller that builds a DataView or a wider typed array over a
  // frame's bytes gets aligned access.
  slabOffset += (size + 7) & ~7;
  return view;
}
