import { getU64, setU64 } from "./bytes";
import { crc32c, crc32cView } from "./crc32c";

/** Bytes of the fixed header in front of every log record (docs/design/wal-format.md §2). */
export const RECORD_HEADER_BYTES = 36;
/** "RWL1" as little-endian bytes: marks a record header and carries the format version. */
export const RECORD_MAGIC = 0x314c5752;
/** Largest record payload accepted (1 GiB); a bigger stored length is treated as damage. */
export const MAX_RECORD_BYTES: number = 1 << 30;

/** One log record. `data` is opaque to the WAL (one encoded append entry). */
export interface LogRecord {
  /** Raft index, ≥ 1. */
  readonly index: number;
  /** Raft term, ≥ 0. */
  readonly term: number;
  /** The payload; the store keeps a reference, so callers must not mutate it afterwards. */
  readonly data: Uint8Array;
}

/** A record header that passed its own checksum. */
export interface RecordHeader {
  readonly dataLength: number;
  readonly index: number;
  readonly term: number;
  /** Index of the first record written in the same write round (the group-commit batch). */
  readonly batchStart: number;
  readonly dataCrc: number;
}

/**
 * Encodes `record` at `offset` of `target` (which must have room for header + data) and returns the
 * bytes written. `view` is a DataView over exactly the bytes of `target`. `batchStart` is the index
 * of the first record of the same write round.
 */
export function encodeRecord(
  target: Uint8Array,
  view: DataView,
  offset: number,
  record: LogRecord,
  batchStart: number,
): number {
  const length = record.data.length;
  view.setUint32(offset, RECORD_MAGIC, true);
  view.setUint32(offset + 4, length, true);
  setU64(view, offset + 8, record.index);
  setU64(view, offset + 16, record.term);
  view.setUint32(offset + 24, record.index - batchStart, true);
  // Copy first, then checksum the copy through `view`: word loads on a view we already hold are
  // faster than byte loads on the caller's array, and a DataView per payload would cost more.
  const start = offset + RECORD_HEADER_BYTES;
  target.set(record.data, start);
  view.setUint32(offset + 28, crc32cView(target, view, start, start + length), true);
  view.setUint32(offset + 32, crc32cView(target, view, offset, offset + 32), true);
  return RECORD_HEADER_BYTES + length;
}

/**
 * Decodes the header at `offset` if it is complete, carries the magic, passes its checksum and
 * holds sane numbers; otherwise returns `undefined`. `view` is a DataView over exactly the bytes of
 * `bytes`. Never throws on any input.
 */
export function decodeHeader(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
): RecordHeader | undefined {
  if (offset < 0 || offset + RECORD_HEADER_BYTES > bytes.length) return undefined;
  if (view.getUint32(offset, true) !== RECORD_MAGIC) return undefined;
  if (view.getUint32(offset + 32, true) !== crc32cView(bytes, view, offset, offset + 32)) {
    return undefined;
  }
  const dataLength = view.getUint32(offset + 4, true);
  const index = getU64(view, offset + 8);
  const term = getU64(view, offset + 16);
  const batchOffset = view.getUint32(offset + 24, true);
  if (dataLength > MAX_RECORD_BYTES || index < 1 || term < 0 || batchOffset >= index) {
    return undefined;
  }
  return {
    dataLength,
    index,
    term,
    batchStart: index - batchOffset,
    dataCrc: view.getUint32(offset + 28, true),
  };
}

/** Whether the payload of the record whose header is at `offset` is complete and matches its CRC. */
export function dataIntact(bytes: Uint8Array, offset: number, header: RecordHeader): boolean {
  const start = offset + RECORD_HEADER_BYTES;
  const end = start + header.dataLength;
  return end <= bytes.length && crc32c(bytes, start, end) === header.dataCrc;
}
