import { getU64, setU64, viewOf } from "./bytes";
import { crc32c } from "./crc32c";
import type { LogEnd } from "./types";

/**
 * The durable mark (wal-format.md §8): the index and term of the last log record known durable,
 * kept in its own small file, away from the records it describes. It is what lets recovery tell
 * "this tail was never synced" (a torn write: forgetting it is safe, nobody was promised it) from
 * "this tail was synced and is gone" (a bit flip in the last round, a misdirected write: the node
 * may have acknowledged it, and the Raft layer must act as if it still had it). The idea is CTRL's
 * persist record (reliability-plan §2, "do not trust file size").
 */

/** "RDM1": marks a mark slot and carries the format version. */
const MARK_MAGIC = 0x314d4452;
/** magic u32, reserved u32, seq u64, index u64, term u64, CRC32C u32 of bytes 0–31. */
export const MARK_BYTES = 36;
/**
 * Slots are a sector apart, so that one torn sector write can only damage the slot being written,
 * and the mark alternates between two of them.
 */
export const MARK_SLOT_BYTES = 512;
/** File name of the mark inside the log directory. */
export const MARK_FILE = "mark";

/** A decoded mark slot. */
export interface MarkSlot extends LogEnd {
  /** Increases with every mark write; the newest valid slot wins. */
  readonly seq: number;
}

/**
 * Raft's "at least as up to date" order on log ends (Raft §5.4.1): `a` is strictly ahead of `b`.
 * The mark only ever moves forward in this order, except when a truncation lowers it.
 */
export function isAhead(a: LogEnd, b: LogEnd): boolean {
  return a.term > b.term || (a.term === b.term && a.index > b.index);
}

/** Encodes one slot. */
export function encodeMark(slot: MarkSlot): Uint8Array {
  const bytes = new Uint8Array(MARK_BYTES);
  const view = viewOf(bytes);
  view.setUint32(0, MARK_MAGIC, true);
  setU64(view, 8, slot.seq);
  setU64(view, 16, slot.index);
  setU64(view, 24, slot.term);
  view.setUint32(32, crc32c(bytes, 0, 32), true);
  return bytes;
}

/** Decodes the slot at `offset`, or `undefined` if it is damaged or absent. Never throws. */
export function decodeMark(bytes: Uint8Array, offset: number): MarkSlot | undefined {
  if (offset < 0 || offset + MARK_BYTES > bytes.length) return undefined;
  const slot = bytes.subarray(offset, offset + MARK_BYTES);
  const view = viewOf(slot);
  if (view.getUint32(0, true) !== MARK_MAGIC || view.getUint32(4, true) !== 0) return undefined;
  if (view.getUint32(32, true) !== crc32c(slot, 0, 32)) return undefined;
  const seq = getU64(view, 8);
  const index = getU64(view, 16);
  const term = getU64(view, 24);
  // getU64 answers -1 for values beyond 2^53 (ADR 0002): damage, not a mark.
  if (seq < 1 || index < 0 || term < 0) return undefined;
  return { seq, index, term };
}

/**
 * The newest valid slot of a mark file, looking at every slot-aligned offset (a misdirected write
 * may have put the newest slot somewhere other than where it was aimed), or `undefined` when none
 * is valid.
 */
export function newestMark(bytes: Uint8Array): MarkSlot | undefined {
  let best: MarkSlot | undefined;
  for (let offset = 0; offset + MARK_BYTES <= bytes.length; offset += MARK_SLOT_BYTES) {
    const slot = decodeMark(bytes, offset);
    if (slot !== undefined && (best === undefined || slot.seq > best.seq)) best = slot;
  }
  return best;
}
