/**
 * Unsigned LEB128 varints ("uvarint"), as used for the append entry's `lterm` trailer. Values are
 * safe integers; the encoding is always minimal, and decoding accepts only minimal encodings so
 * that every accepted trailer re-encodes to the same bytes.
 */
import { CodecError } from "./errors";

/** The longest uvarint of a u64 (ceil(64 / 7) bytes). */
export const MAX_UVARINT_LENGTH = 10;

/** Number of bytes `value` (a non-negative safe integer) takes as a uvarint: 1–8. */
export function uvarintSize(value: number): number {
  let size = 1;
  let rest = value;
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80);
    size++;
  }
  return size;
}

/** Writes `value` (a non-negative safe integer) as a uvarint at `offset`; returns the end offset. */
export function writeUvarint(out: Uint8Array, offset: number, value: number): number {
  let position = offset;
  let rest = value;
  while (rest >= 0x80) {
    out[position++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[position++] = rest;
  return position;
}

/** A decoded uvarint and the offset just past it. */
export interface DecodedUvarint {
  readonly value: number;
  readonly end: number;
}

/**
 * Reads the uvarint that starts at `offset` and ends before `limit`. Throws BAD_VARINT when it is
 * unterminated, longer than 10 bytes, overflows u64 or is not minimal, and VALUE_TOO_LARGE when
 * it is a valid u64 above Number.MAX_SAFE_INTEGER.
 */
export function readUvarint(bytes: Uint8Array, offset: number, limit: number): DecodedUvarint {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_UVARINT_LENGTH; i++) {
    const position = offset + i;
    if (position >= limit) {
      throw new CodecError("BAD_VARINT", `uvarint at offset ${offset} is unterminated`);
    }
    const byte = bytes[position] as number;
    // The 10th byte may only hold bit 63; anything more overflows u64.
    if (i === MAX_UVARINT_LENGTH - 1 && byte > 1) {
      throw new CodecError("BAD_VARINT", `uvarint at offset ${offset} overflows u64`);
    }
    // Each term is exact (a 7-bit value times a power of two); once the sum passes 2^53 − 1 it can
    // be rounded, but never back down to a safe value, so the check after the loop stays correct.
    value += (byte & 0x7f) * scale;
    scale *= 0x80;
    if (byte < 0x80) {
      if (byte === 0 && i > 0) {
        throw new CodecError("BAD_VARINT", `uvarint at offset ${offset} is not minimal`);
      }
      if (value > Number.MAX_SAFE_INTEGER) {
        throw new CodecError(
          "VALUE_TOO_LARGE",
          `uvarint at offset ${offset} exceeds Number.MAX_SAFE_INTEGER`,
        );
      }
      return { value, end: position + 1 };
    }
  }
  throw new CodecError("BAD_VARINT", `uvarint at offset ${offset} is longer than 10 bytes`);
}
