import { viewOf } from "./bytes";
import {
  dataIntact,
  decodeHeader,
  RECORD_HEADER_BYTES,
  RECORD_MAGIC,
  type RecordHeader,
} from "./record-format";

/** A record whose header passed its checksum; `intact` tells whether its payload did too. */
export interface ScannedRecord {
  readonly kind: "record";
  /** Byte offset of the header inside the segment. */
  readonly offset: number;
  readonly header: RecordHeader;
  readonly intact: boolean;
}

/** Indexes `[fromIndex, toIndex)` whose headers are unreadable, starting at byte `offset`. */
export interface LostRange {
  readonly kind: "lost";
  readonly offset: number;
  readonly fromIndex: number;
  readonly toIndex: number;
}

/** What a segment's bytes say, in index order. */
export interface SegmentScan {
  readonly items: readonly (ScannedRecord | LostRange)[];
  /** Offset where damage begins that no valid record follows; `undefined` if the end is clean. */
  readonly tailDamageOffset: number | undefined;
  /** The index that would follow the last item (records are densely indexed from the base). */
  readonly nextIndex: number;
}

/**
 * Parses a segment whose first record must have index `baseIndex`. Records are dense (each index is
 * the previous plus one), which is what lets damage be reported by index: an unreadable stretch
 * between two good records covers exactly the indexes between them. After damage the scan
 * re-synchronises on the next header that passes its checksum, carries an index not below the
 * expected one and has an intact payload. Never throws; pure.
 */
export function scanSegment(bytes: Uint8Array, baseIndex: number): SegmentScan {
  const view = viewOf(bytes);
  const items: (ScannedRecord | LostRange)[] = [];
  let offset = 0;
  let expected = baseIndex;
  let tailDamageOffset: number | undefined;
  while (offset < bytes.length) {
    const header = decodeHeader(bytes, view, offset);
    if (
      header !== undefined &&
      header.index === expected &&
      offset + RECORD_HEADER_BYTES + header.dataLength <= bytes.length
    ) {
      items.push({ kind: "record", offset, header, intact: dataIntact(bytes, offset, header) });
      offset += RECORD_HEADER_BYTES + header.dataLength;
      expected++;
      continue;
    }
    const next = findNextRecord(bytes, view, offset, expected);
    if (next === undefined) {
      tailDamageOffset = offset;
      break;
    }
    if (next.header.index > expected) {
      items.push({ kind: "lost", offset, fromIndex: expected, toIndex: next.header.index });
    }
    offset = next.offset;
    expected = next.header.index;
  }
  return { items, tailDamageOffset, nextIndex: expected };
}

function findNextRecord(
  bytes: Uint8Array,
  view: DataView,
  from: number,
  minIndex: number,
): { offset: number; header: RecordHeader } | undefined {
  const last = bytes.length - RECORD_HEADER_BYTES;
  for (let offset = from; offset <= last; offset++) {
    // Cheap magic test first; the checksum runs only on candidates.
    if (view.getUint32(offset, true) !== RECORD_MAGIC) continue;
    const header = decodeHeader(bytes, view, offset);
    if (header === undefined || header.index < minIndex) continue;
    if (dataIntact(bytes, offset, header)) return { offset, header };
  }
  return undefined;
}
