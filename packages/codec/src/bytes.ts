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
export const POOLED_FRAME_BYTES_MAX: number = 32 * 1024;
/** Frames up to this size come from the small slab, larger pooled ones from the large slab. */
const SMALL_FRAME_BYTES_MAX = 4096;
const SMALL_SLAB_BYTES = 64 * 1024;
const LARGE_SLAB_BYTES = 256 * 1024;

/** A slab and the offset of its first byte not yet handed out. */
interface Slab {
  bytes: Uint8Array;
  offset: number;
}

const small: Slab = { bytes: new Uint8Array(SMALL_SLAB_BYTES), offset: 0 };
// Allocated on first use: a process that never encodes a frame above 4 KiB never pays for it.
const large: Slab = { bytes: new Uint8Array(0), offset: 0 };

/**
 * Returns `buffer.subarray(0, size)` when a buffer of at least `size` bytes was supplied, else a
 * new array of `size` bytes that only the caller references.
 *
 * Why slabs: allocating a typed array costs more than encoding a frame into it (each one gets its
 * own zeroed ArrayBuffer, whose backing store the engine tracks as external memory, so a stream
 * of them also makes the collector run more often): fresh 16.7 KB append entries ran at a fifth of
 * the reused-buffer speed in the bench. So frames are handed out as disjoint views of a shared
 * ArrayBuffer, as Node's Buffer pool does: up to 4 KiB from a 64 KiB slab, above 4 KiB and up to
 * 32 KiB from a 256 KiB slab (at least 8 frames per slab); larger frames get their own array. A
 * region is never handed out twice (a full slab is dropped, not recycled), so views start zeroed
 * and never alias; only their `.buffer` is shared.
 *
 * The cost: a frame kept alive keeps its whole slab alive (64 KiB for a frame up to 4 KiB,
 * 256 KiB for a larger pooled one) until every other frame carved from it is gone too. The large
 * slab stops at 256 KiB, not more, to bound that: a 1 MiB slab for frames up to 64 KiB measured
 * about 20% faster on the 16.7 KB frame but could pin 1 MiB per retained 5 KiB frame. Callers that
 * keep a few frames among many short-lived ones for a long time should copy them (`.slice()`) or
 * encode them into their own `buffer`.
 */
export function outputBuffer(size: number, buffer: Uint8Array | undefined): Uint8Array {
  if (buffer !== undefined && buffer.length >= size) return buffer.subarray(0, size);
  if (size > POOLED_FRAME_BYTES_MAX) return new Uint8Array(size);
  return size <= SMALL_FRAME_BYTES_MAX
    ? carve(small, SMALL_SLAB_BYTES, size)
    : carve(large, LARGE_SLAB_BYTES, size);
}

function carve(slab: Slab, slabBytes: number, size: number): Uint8Array {
  if (slab.offset + size > slab.bytes.length) {
    slab.bytes = new Uint8Array(slabBytes);
    slab.offset = 0;
  }
  const view = new Uint8Array(slab.bytes.buffer, slab.offset, size);
  // Keep views 8-byte aligned, so a caller that builds a DataView or a wider typed array over a
  // frame's bytes gets aligned access.
  slab.offset += (size + 7) & ~7;
  return view;
}
