import { joinPath, readWholeFile, writeFileAtomic } from "./atomic-file";
import { getU64, setU64, viewOf } from "./bytes";
import { crc32c } from "./crc32c";
import type { Disk } from "./disk";

/** "RST1": marks a state file and carries the format version. */
const STATE_MAGIC = 0x31545352;
const HEADER_BYTES = 20;
const TRAILER_BYTES = 4;

/** The two copies of every state file. Both are rewritten on each update (see wal-format.md §3). */
export const STATE_COPIES: readonly string[] = ["a", "b"];

/** Encodes one copy: magic, kind, sequence number, payload length, payload, CRC32C of the rest. */
export function encodeState(kind: number, seq: number, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + payload.length + TRAILER_BYTES);
  const view = viewOf(bytes);
  view.setUint32(0, STATE_MAGIC, true);
  view.setUint32(4, kind, true);
  setU64(view, 8, seq);
  view.setUint32(16, payload.length, true);
  bytes.set(payload, HEADER_BYTES);
  const end = HEADER_BYTES + payload.length;
  view.setUint32(end, crc32c(bytes, 0, end), true);
  return bytes;
}

/** Decodes one copy, or `undefined` if it is damaged or of another kind. Never throws. */
export function decodeState(
  bytes: Uint8Array,
  kind: number,
): { seq: number; payload: Uint8Array } | undefined {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) return undefined;
  const view = viewOf(bytes);
  if (view.getUint32(0, true) !== STATE_MAGIC || view.getUint32(4, true) !== kind) return undefined;
  const length = view.getUint32(16, true);
  if (bytes.length !== HEADER_BYTES + length + TRAILER_BYTES) return undefined;
  const end = HEADER_BYTES + length;
  if (view.getUint32(end, true) !== crc32c(bytes, 0, end)) return undefined;
  const seq = getU64(view, 8);
  if (seq < 1) return undefined;
  return { seq, payload: bytes.slice(HEADER_BYTES, end) };
}

/** The newest valid copy of a state file and the names of copies that exist but are damaged. */
export interface LoadedState {
  readonly payload: Uint8Array | undefined;
  /** Sequence number of the loaded copy (0 when none). */
  readonly seq: number;
  readonly damaged: readonly string[];
}

/** Loads `dir/name.a` and `dir/name.b` and picks the valid copy with the highest sequence number. */
export async function loadState(
  disk: Disk,
  dir: string,
  name: string,
  kind: number,
): Promise<LoadedState> {
  let best: { seq: number; payload: Uint8Array } | undefined;
  const damaged: string[] = [];
  for (const copy of STATE_COPIES) {
    const file = `${name}.${copy}`;
    const bytes = await readWholeFile(disk, joinPath(dir, file));
    if (bytes === undefined) continue;
    const decoded = decodeState(bytes, kind);
    if (decoded === undefined) damaged.push(file);
    else if (best === undefined || decoded.seq > best.seq) best = decoded;
  }
  return { payload: best?.payload, seq: best?.seq ?? 0, damaged };
}

/**
 * Writes `payload` with sequence number `seq` to both copies, one after the other, each atomically
 * (temp file, fdatasync, rename, directory fsync). Writing both means a later bit flip in either
 * copy still leaves the newest value in the other.
 */
export async function writeState(
  disk: Disk,
  dir: string,
  name: string,
  kind: number,
  seq: number,
  payload: Uint8Array,
): Promise<void> {
  const bytes = encodeState(kind, seq, payload);
  for (const copy of STATE_COPIES) await writeFileAtomic(disk, dir, `${name}.${copy}`, bytes);
}
