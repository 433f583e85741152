import { getU64, setU64, viewOf } from "./bytes";
import { crc32c } from "./crc32c";

/** "RSN1": marks a snapshot file and carries the format version. */
const SNAPSHOT_MAGIC = 0x314e5352;
const HEADER_BYTES = 32;
const TRAILER_BYTES = 4;

/** A snapshot as stored: the state machine's `data` up to and including `index`. */
export interface Snapshot {
  /** Term of the entry at `index`. */
  readonly term: number;
  /** Last log index the snapshot covers. */
  readonly index: number;
  /** Opaque encoded peer state at `index`. */
  readonly peerState: Uint8Array;
  /** Opaque state-machine snapshot. */
  readonly data: Uint8Array;
}

/** File name of a snapshot: zero-padded index then term, so names sort oldest first. */
export function snapshotFileName(index: number, term: number): string {
  return `snap-${String(index).padStart(20, "0")}-${String(term).padStart(20, "0")}.snap`;
}

/** Parses a snapshot file name into `{ index, term }`, or `undefined` if it is not one. */
export function parseSnapshotFileName(name: string): { index: number; term: number } | undefined {
  const match = /^snap-(\d{20})-(\d{20})\.snap$/.exec(name);
  if (match === null) return undefined;
  const index = Number(match[1]);
  const term = Number(match[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term)) return undefined;
  return { index, term };
}

/** Encodes a snapshot: header (magic, version, term, index, lengths), peer state, data, CRC32C. */
export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  const { peerState, data } = snapshot;
  const bytes = new Uint8Array(HEADER_BYTES + peerState.length + data.length + TRAILER_BYTES);
  const view = viewOf(bytes);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  view.setUint32(4, 0, true);
  setU64(view, 8, snapshot.term);
  setU64(view, 16, snapshot.index);
  view.setUint32(24, peerState.length, true);
  view.setUint32(28, data.length, true);
  bytes.set(peerState, HEADER_BYTES);
  bytes.set(data, HEADER_BYTES + peerState.length);
  const end = bytes.length - TRAILER_BYTES;
  view.setUint32(end, crc32c(bytes, 0, end), true);
  return bytes;
}

/** Decodes a snapshot file, or `undefined` if it is damaged in any way. Never throws. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot | undefined {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) return undefined;
  const view = viewOf(bytes);
  if (view.getUint32(0, true) !== SNAPSHOT_MAGIC || view.getUint32(4, true) !== 0) return undefined;
  const peerLength = view.getUint32(24, true);
  const dataLength = view.getUint32(28, true);
  if (bytes.length !== HEADER_BYTES + peerLength + dataLength + TRAILER_BYTES) return undefined;
  const end = bytes.length - TRAILER_BYTES;
  if (view.getUint32(end, true) !== crc32c(bytes, 0, end)) return undefined;
  const term = getU64(view, 8);
  const index = getU64(view, 16);
  if (term < 0 || index < 0) return undefined;
  const peerEnd = HEADER_BYTES + peerLength;
  return {
    term,
    index,
    peerState: bytes.slice(HEADER_BYTES, peerEnd),
    data: bytes.slice(peerEnd, end),
  };
}
