import { joinPath } from "./atomic-file";
import type { Disk, DiskFile } from "./disk";
import { type LostRange, type ScannedRecord, type SegmentScan, scanSegment } from "./segment-scan";
import type { TruncatedTail, WalLogger } from "./types";
import { WalError } from "./wal-error";

/** A lost range this long means the file system, not a record, is broken: refuse to open. */
const MAX_LOST_RANGE = 10_000_000;

/** An open segment file and where each of its records lives. */
export interface Segment {
  /** Index of the first record (also the file name). */
  readonly base: number;
  readonly name: string;
  readonly file: DiskFile;
  /** Bytes in the file, including any damaged bytes left mid-log. */
  size: number;
  /** `offsets[i - base]`: header offset of record i (for a lost record: where the damage starts). */
  readonly offsets: number[];
  /** `lengths[i - base]`: payload length of record i, or -1 when its header is unreadable. */
  readonly lengths: number[];
}

/** The log as recovery left it. */
export interface RecoveredLog {
  readonly segments: Segment[];
  readonly firstIndex: number;
  /** Terms of `[firstIndex, firstIndex + terms.length)`; -1 where the header is unreadable. */
  readonly terms: number[];
  readonly corrupt: number[];
  readonly truncatedTail: TruncatedTail | undefined;
}

/** Segment file name: the base index, zero-padded so names sort in index order. */
export function segmentFileName(base: number): string {
  return `${String(base).padStart(20, "0")}.seg`;
}

const SEGMENT_NAME = /^(\d{20})\.seg$/;

interface Loaded {
  readonly base: number;
  readonly name: string;
  readonly file: DiskFile;
  readonly size: number;
  readonly scan: SegmentScan;
}

/**
 * Opens every segment of `logDir`, deletes leftovers (temp files, segments wholly below `floor`),
 * cuts the possibly torn last write round and reports mid-log damage by index. `floor` is the
 * persisted first index (from `compactBefore`), or `undefined` if the log was never compacted.
 */
export async function recoverLog(
  disk: Disk,
  logDir: string,
  floor: number | undefined,
  logger: WalLogger | undefined,
): Promise<RecoveredLog> {
  const names = await disk.list(logDir);
  let removed = false;
  const found: { base: number; name: string }[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    const base = match === null ? Number.NaN : Number(match[1]);
    if (Number.isSafeInteger(base) && base >= 1) found.push({ base, name });
    else if (name.endsWith(".tmp")) {
      await disk.unlink(joinPath(logDir, name));
      removed = true;
    }
  }
  found.sort((a, b) => a.base - b.base);
  const loaded: Loaded[] = [];
  for (const { base, name } of found) {
    const file = await disk.open(joinPath(logDir, name), "write");
    const bytes = await file.read(await file.size(), 0);
    const scan = scanSegment(bytes, base);
    // A segment wholly below the compaction floor is a compaction that crashed half-way: finish it.
    if (floor !== undefined && scan.nextIndex <= floor) {
      await file.close();
      await disk.unlink(joinPath(logDir, name));
      removed = true;
      continue;
    }
    loaded.push({ base, name, file, size: bytes.length, scan });
  }
  if (removed) await disk.syncDir(logDir);

  const truncatedTail = await cutTornTail(loaded);
  // What a crashed process left may still sit unsynced in the page cache: make it durable before
  // anything new is written behind it, so that only new rounds can be torn by a later power loss.
  await loaded.at(-1)?.file.datasync();
  if (loaded.length > 0) await disk.syncDir(logDir);
  if (truncatedTail !== undefined) {
    logger?.warn("wal: cut the unsynced tail of the last segment", { ...truncatedTail });
  }
  return buildLog(loaded, floor, truncatedTail);
}

/**
 * Only the last write round of the last segment can be unsynced (each round is fdatasynced before
 * the next one is written, and a new segment starts only after the previous one is synced). Every
 * record carries the first index of its round, so damage at or after that index is the torn tail:
 * cut it there. Damage before it was synced and is mid-log corruption, never cut.
 */
async function cutTornTail(loaded: Loaded[]): Promise<TruncatedTail | undefined> {
  const last = loaded.at(-1);
  if (last === undefined) return undefined;
  const { items } = last.scan;
  let batchStart = 0;
  for (let k = items.length - 1; k >= 0; k--) {
    const item = items[k] as ScannedRecord | LostRange;
    if (item.kind === "record") {
      batchStart = item.header.batchStart;
      break;
    }
  }
  let cut: { at: number; offset: number; fromIndex: number } | undefined;
  for (let k = 0; k < items.length && cut === undefined; k++) {
    const item = items[k] as ScannedRecord | LostRange;
    if (item.kind === "record" && !item.intact && item.header.index >= batchStart) {
      cut = { at: k, offset: item.offset, fromIndex: item.header.index };
    } else if (item.kind === "lost" && item.toIndex > batchStart) {
      cut = { at: k, offset: item.offset, fromIndex: item.fromIndex };
    }
  }
  if (cut === undefined && last.scan.tailDamageOffset !== undefined) {
    cut = { at: items.length, offset: last.scan.tailDamageOffset, fromIndex: last.scan.nextIndex };
  }
  if (cut === undefined) return undefined;
  const records = last.scan.nextIndex - cut.fromIndex;
  await last.file.truncate(cut.offset);
  await last.file.datasync();
  loaded[loaded.length - 1] = {
    ...last,
    size: cut.offset,
    scan: {
      items: items.slice(0, cut.at),
      tailDamageOffset: undefined,
      nextIndex: cut.fromIndex,
    },
  };
  return {
    segment: last.name,
    bytes: last.size - cut.offset,
    fromIndex: cut.fromIndex,
    records,
  };
}

function pushLost(segment: Segment | undefined, from: number, to: number, offset: number): void {
  if (to - from > MAX_LOST_RANGE) {
    throw new WalError("CORRUPT", `wal: ${to - from} consecutive log indexes are unreadable`);
  }
  if (segment === undefined) return;
  for (let i = from; i < to; i++) {
    segment.offsets.push(offset);
    segment.lengths.push(-1);
  }
}

function buildLog(
  loaded: readonly Loaded[],
  floor: number | undefined,
  truncatedTail: TruncatedTail | undefined,
): RecoveredLog {
  const firstIndex = floor ?? loaded[0]?.base ?? 1;
  const terms: number[] = [];
  const corrupt: number[] = [];
  const segments: Segment[] = [];
  let next = firstIndex;
  const note = (index: number, term: number, damaged: boolean): void => {
    if (index < firstIndex) return;
    terms.push(term);
    if (damaged) corrupt.push(index);
  };
  for (const item of loaded) {
    const previous = segments.at(-1);
    const segment: Segment = {
      base: item.base,
      name: item.name,
      file: item.file,
      size: item.size,
      offsets: [],
      lengths: [],
    };
    if (item.base < next && previous !== undefined) {
      throw new WalError("CORRUPT", `wal: segment ${item.name} overlaps the one before it`);
    }
    if (item.base > next) {
      // Indexes between the previous segment's last readable record and this base are lost; they
      // physically belong at the previous segment's end.
      const at =
        previous === undefined
          ? 0
          : (loaded[segments.length - 1]?.scan.tailDamageOffset ?? previous.size);
      pushLost(previous, next, item.base, at);
      for (let i = Math.max(next, firstIndex); i < item.base; i++) note(i, -1, true);
    }
    for (const entry of item.scan.items) {
      if (entry.kind === "record") {
        segment.offsets.push(entry.offset);
        segment.lengths.push(entry.header.dataLength);
        note(entry.header.index, entry.header.term, !entry.intact);
      } else {
        pushLost(segment, entry.fromIndex, entry.toIndex, entry.offset);
        for (let i = entry.fromIndex; i < entry.toIndex; i++) note(i, -1, true);
      }
    }
    next = Math.max(next, item.scan.nextIndex);
    segments.push(segment);
  }
  return { segments, firstIndex, terms, corrupt, truncatedTail };
}
