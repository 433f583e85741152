// Little-endian u64 helpers on plain numbers. Indexes and terms stay below 2^53 (see the codec's
// ADR 0002); a stored value above that is treated as damage by the readers, never truncated.
const TWO_32 = 4294967296;

/** Writes `value` (a safe non-negative integer) as a little-endian u64 at `offset`. */
export function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true);
}

/** Reads a little-endian u64; returns -1 when it exceeds `Number.MAX_SAFE_INTEGER`. */
export function getU64(view: DataView, offset: number): number {
  const hi = view.getUint32(offset + 4, true);
  if (hi > 0x1fffff) return -1;
  return hi * TWO_32 + view.getUint32(offset, true);
}

/** A DataView over exactly the bytes of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Whether `value` is an integer in `[min, Number.MAX_SAFE_INTEGER]`. */
export function isSafeInt(value: unknown, min: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min;
}
