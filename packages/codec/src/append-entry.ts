/**
 * The append entry frame (nats-raft-spec §2.2):
 *
 *   leader[8] · term u64 · commit u64 · pterm u64 · pindex u64 · count u16 ·
 *   count × (len u32 = 1 + data length · type u8 · data) · [lterm uvarint]
 *
 * All integers little-endian. The current dialect always writes the lterm trailer (0x00 when 0);
 * v2.9 writes none.
 */
import {
  checkNodeId,
  checkU64,
  outputBuffer,
  readNodeId,
  readU16,
  readU32,
  readU64,
  writeCheckedNodeId,
  writeU16,
  writeU32,
  writeU64,
} from "./bytes";
import { CodecError } from "./errors";
import type { AppendEntry, Dialect, Entry, EntryType } from "./types";
import { readUvarint, uvarintSize, writeUvarint } from "./varint";

/** Bytes before the first entry: leader, four u64s and the entry count. */
export const APPEND_ENTRY_HEADER_LENGTH = 42;
/** Bytes of each entry before its data: the u32 length and the type byte. */
export const ENTRY_HEADER_LENGTH = 5;
/** Most entries one append entry can carry (the count is a u16). */
export const MAX_ENTRIES = 65_535;
/** Largest entry data in bytes (2^31 − 1). */
export const MAX_ENTRY_DATA_LENGTH = 0x7fff_ffff;
/** The entry types that may appear on the wire: every {@link EntryType} except Catchup (7). */
const MAX_WIRE_ENTRY_TYPE = 6;

/** Options of {@link encodeAppendEntry}. */
export interface EncodeAppendEntryOptions {
  /** Wire dialect; default `"current"`. */
  readonly dialect?: Dialect;
  /**
   * Where to write the frame. Used (from offset 0) when it holds at least
   * {@link appendEntrySize} bytes; otherwise a fresh array is allocated.
   */
  readonly buffer?: Uint8Array;
}

/** Options of {@link decodeAppendEntry}. */
export interface DecodeAppendEntryOptions {
  /**
   * Wire dialect; default `"current"`. Both dialects decode the same way: the lterm trailer is
   * optional (v2.9 peers never write it, newer peers always do).
   */
  readonly dialect?: Dialect;
}

function checkEntryType(type: number, index: number): void {
  if (!Number.isInteger(type) || type < 0 || type > MAX_WIRE_ENTRY_TYPE) {
    throw new CodecError(
      "BAD_ENTRY_TYPE",
      `entry ${index} has type ${type}, which is not allowed on the wire`,
    );
  }
}

/**
 * Validates `ae` and returns its encoded size in bytes for `dialect`. Throws the same CodecErrors
 * as {@link encodeAppendEntry}.
 */
export function appendEntrySize(ae: AppendEntry, dialect: Dialect = "current"): number {
  checkNodeId(ae.leader, "leader", true);
  checkU64(ae.term, "term");
  checkU64(ae.commit, "commit");
  checkU64(ae.pterm, "pterm");
  checkU64(ae.pindex, "pindex");
  checkU64(ae.lterm, "lterm");
  const entries = ae.entries;
  if (entries.length > MAX_ENTRIES) {
    throw new CodecError(
      "TOO_MANY_ENTRIES",
      `an append entry holds at most ${MAX_ENTRIES} entries, got ${entries.length}`,
    );
  }
  let size = APPEND_ENTRY_HEADER_LENGTH;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as Entry;
    checkEntryType(entry.type, i);
    const length = entry.data.length;
    if (length > MAX_ENTRY_DATA_LENGTH) {
      throw new CodecError(
        "ENTRY_TOO_LARGE",
        `entry ${i} has ${length} bytes of data, the maximum is ${MAX_ENTRY_DATA_LENGTH}`,
      );
    }
    size += ENTRY_HEADER_LENGTH + length;
  }
  if (dialect === "current") size += uvarintSize(ae.lterm);
  return size;
}

/**
 * Encodes an append entry. The current dialect ends the frame with `lterm` as a uvarint (0x00 when
 * zero); the v2.9 dialect cannot carry `lterm` and omits it whatever its value.
 *
 * Returns a view of exactly the frame's bytes: `options.buffer.subarray(0, size)` when that buffer
 * is large enough (it must not overlap any entry's data), else new memory that nothing else
 * references. Frames up to 32 KiB are views into a shared ArrayBuffer (64 KiB for frames up to
 * 4 KiB, 256 KiB above), which a retained frame keeps alive, so use `byteOffset`
 * and `byteLength` rather than `.buffer` alone. Entry data are copied into the frame.
 *
 * @throws CodecError BAD_NODE_ID (leader neither "" nor 8 printable ASCII characters),
 *   BAD_NUMBER / VALUE_TOO_LARGE (a u64 field that is not a non-negative safe integer),
 *   TOO_MANY_ENTRIES (> 65,535), BAD_ENTRY_TYPE (not 0–6), ENTRY_TOO_LARGE (data ≥ 2^31 bytes).
 */
export function encodeAppendEntry(ae: AppendEntry, options?: EncodeAppendEntryOptions): Uint8Array {
  const dialect = options?.dialect ?? "current";
  const size = appendEntrySize(ae, dialect);
  const out = outputBuffer(size, options?.buffer);
  // appendEntrySize validated the leader.
  writeCheckedNodeId(out, 0, ae.leader);
  writeU64(out, 8, ae.term);
  writeU64(out, 16, ae.commit);
  writeU64(out, 24, ae.pterm);
  writeU64(out, 32, ae.pindex);
  const entries = ae.entries;
  writeU16(out, 40, entries.length);
  let offset = APPEND_ENTRY_HEADER_LENGTH;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as Entry;
    const data = entry.data;
    writeU32(out, offset, data.length + 1);
    out[offset + 4] = entry.type;
    out.set(data, offset + ENTRY_HEADER_LENGTH);
    offset += ENTRY_HEADER_LENGTH + data.length;
  }
  if (dialect === "current") offset = writeUvarint(out, offset, ae.lterm);
  // Invariant: the size computed up front is exactly what was written.
  if (offset !== size) throw new Error(`append entry: wrote ${offset} bytes, expected ${size}`);
  return out;
}

/**
 * Decodes an append entry. Entry `data` are plain `Uint8Array` views into `bytes` (zero copy, even
 * when `bytes` is a Node Buffer): the caller must not modify `bytes` while the entries are in use,
 * and copies them to keep them beyond that.
 *
 * Trailing bytes after the entries must form exactly one minimal uvarint (the lterm); none means
 * lterm 0. Nothing is trusted: every length is checked against the input before use.
 *
 * @throws CodecError TRUNCATED (shorter than 42 bytes, or an entry runs past the end),
 *   BAD_NODE_ID, VALUE_TOO_LARGE (a u64 above 2^53 − 1), BAD_ENTRY_LENGTH (len 0),
 *   ENTRY_TOO_LARGE (len − 1 ≥ 2^31), BAD_ENTRY_TYPE (not 0–6), BAD_VARINT (malformed trailer),
 *   TRAILING_BYTES (bytes after the trailer).
 */
export function decodeAppendEntry(
  bytes: Uint8Array,
  _options?: DecodeAppendEntryOptions,
): AppendEntry {
  const end = bytes.length;
  if (end < APPEND_ENTRY_HEADER_LENGTH) {
    throw new CodecError(
      "TRUNCATED",
      `append entry needs at least ${APPEND_ENTRY_HEADER_LENGTH} bytes, got ${end}`,
    );
  }
  const leader = readNodeId(bytes, 0, "leader", true);
  const term = readU64(bytes, 8, "term");
  const commit = readU64(bytes, 16, "commit");
  const pterm = readU64(bytes, 24, "pterm");
  const pindex = readU64(bytes, 32, "pindex");
  const count = readU16(bytes, 40);
  let offset = APPEND_ENTRY_HEADER_LENGTH;
  // Check the smallest possible size first so a forged count cannot make us allocate much.
  if (end - offset < count * ENTRY_HEADER_LENGTH) {
    throw new CodecError(
      "TRUNCATED",
      `append entry declares ${count} entries but has only ${end - offset} bytes for them`,
    );
  }
  const entries: Entry[] = new Array<Entry>(count);
  for (let i = 0; i < count; i++) {
    if (end - offset < ENTRY_HEADER_LENGTH) {
      throw new CodecError("TRUNCATED", `entry ${i} header at offset ${offset} is truncated`);
    }
    const length = readU32(bytes, offset);
    if (length === 0) {
      throw new CodecError("BAD_ENTRY_LENGTH", `entry ${i} at offset ${offset} has length 0`);
    }
    if (length - 1 > MAX_ENTRY_DATA_LENGTH) {
      throw new CodecError("ENTRY_TOO_LARGE", `entry ${i} at offset ${offset} is too large`);
    }
    const dataStart = offset + ENTRY_HEADER_LENGTH;
    const dataEnd = offset + 4 + length;
    if (dataEnd > end) {
      throw new CodecError(
        "TRUNCATED",
        `entry ${i} at offset ${offset} declares ${length} bytes, only ${end - offset - 4} remain`,
      );
    }
    const type = bytes[offset + 4] as number;
    checkEntryType(type, i);
    // A plain Uint8Array view even when `bytes` is a subclass such as Node's Buffer.
    const data = new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart, dataEnd - dataStart);
    entries[i] = { type: type as EntryType, data };
    offset = dataEnd;
  }
  let lterm = 0;
  if (offset < end) {
    const trailer = readUvarint(bytes, offset, end);
    if (trailer.end !== end) {
      throw new CodecError(
        "TRAILING_BYTES",
        `append entry has ${end - trailer.end} bytes after its lterm trailer`,
      );
    }
    lterm = trailer.value;
  }
  return { leader, term, commit, pterm, pindex, entries, lterm };
}
