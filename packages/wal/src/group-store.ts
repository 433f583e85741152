import { joinPath, readWholeFile, writeFileAtomic } from "./atomic-file";
import { getU64, isSafeInt, setU64, viewOf } from "./bytes";
import { crc32c } from "./crc32c";
import type { Disk, DiskFile } from "./disk";
import { encodeMark, isAhead, MARK_FILE, MARK_SLOT_BYTES, newestMark } from "./durable-mark";
import {
  decodeHeader,
  encodeRecord,
  type LogRecord,
  MAX_RECORD_BYTES,
  RECORD_HEADER_BYTES,
} from "./record-format";
import { recoverLog, type Segment, segmentFileName } from "./recovery";
import {
  decodeSnapshot,
  encodeSnapshot,
  parseSnapshotFileName,
  type Snapshot,
  snapshotFileName,
} from "./snapshot-file";
import { loadState, writeState } from "./state-file";
import type {
  GroupCommitStats,
  GroupStore,
  GroupStoreOptions,
  LogEnd,
  RecoveryReport,
  SyncPolicy,
  TermVote,
  WalLogger,
} from "./types";
import { toWalError, WalError } from "./wal-error";

const KIND_TERM_VOTE = 1;
const KIND_PEERS = 2;
const KIND_FLOOR = 3;
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
const DEFAULT_CACHE_ENTRIES = 4096;

/**
 * Every `append` call that arrives while no round has taken it joins the group at the queue's tail:
 * one promise and one record list per round rather than per call, which keeps the per-record CPU
 * cost far below the cost of an fdatasync.
 */
type AppendGroup = {
  readonly kind: "append";
  readonly records: LogRecord[];
  /** How many `append` calls joined. */
  calls: number;
  /** `#epoch` when the group was opened; a truncation always closes the group before it. */
  readonly epoch: number;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
};
type TaskOp = {
  readonly kind: "task";
  readonly what: string;
  /** A failure of a fatal task closes the store (writes, syncs); of a non-fatal one (reads) not. */
  readonly fatal: boolean;
  readonly run: () => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
};
type Op = AppendGroup | TaskOp;

/** A written append round whose fdatasync is in flight. */
interface InFlight {
  readonly group: AppendGroup;
  /** Last index of the round. */
  readonly last: number;
  /** Settles (never rejects) once the fdatasync returned and the round was resolved or failed. */
  readonly done: Promise<void>;
}

/**
 * How many append rounds may have their fdatasync in flight at once. Measured on the reference
 * machine, 2 (writing round n+1 while round n syncs) halved how many appends each sync covered for
 * closed-loop callers and lost throughput, because the device does not overlap syncs; the
 * machinery stays (and recovery supports deeper pipelines, see wal-format.md §5) for devices that
 * do.
 */
const PIPELINE_DEPTH = 1;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: false });

function encodeTermVote(value: TermVote): Uint8Array {
  const vote = textEncoder.encode(value.vote);
  const bytes = new Uint8Array(8 + vote.length);
  setU64(viewOf(bytes), 0, value.term);
  bytes.set(vote, 8);
  return bytes;
}

function decodeTermVote(bytes: Uint8Array | undefined): TermVote {
  if (bytes === undefined || bytes.length < 8) return { term: 0, vote: "" };
  return {
    term: Math.max(0, getU64(viewOf(bytes), 0)),
    vote: textDecoder.decode(bytes.subarray(8)),
  };
}

/**
 * Opens (creating if needed) the store of one Raft group in directory `dir`, running crash
 * recovery first (see {@link RecoveryReport} and docs/design/wal-format.md). Layout: `dir/log/`
 * segments, `dir/tav.{a,b}`, `dir/peers.{a,b}`, `dir/log/first.{a,b}`, `dir/snapshots/`.
 * Rejects `IO`/`NO_SPACE` when the disk fails, `CORRUPT` when the log's files contradict each other
 * (overlapping segments: file-system damage the store will not guess around), `INVALID_ARGUMENT`
 * for bad options.
 */
export async function openGroupStore(dir: string, options: GroupStoreOptions): Promise<GroupStore> {
  const syncPolicy: SyncPolicy = options.syncPolicy ?? "always";
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const cacheEntries = options.cacheEntries ?? DEFAULT_CACHE_ENTRIES;
  if (!isSafeInt(segmentBytes, 1) || !isSafeInt(cacheEntries, 0)) {
    throw new WalError("INVALID_ARGUMENT", "wal: segmentBytes must be ≥ 1 and cacheEntries ≥ 0");
  }
  if (syncPolicy !== "always" && !isSafeInt(syncPolicy.intervalMs, 1)) {
    throw new WalError("INVALID_ARGUMENT", "wal: syncPolicy.intervalMs must be an integer ≥ 1");
  }
  const { disk, logger } = options;
  try {
    return await openInternal(dir, disk, syncPolicy, segmentBytes, cacheEntries, logger);
  } catch (error) {
    throw toWalError(error, `wal: opening ${dir}`);
  }
}

async function openInternal(
  dir: string,
  disk: Disk,
  syncPolicy: SyncPolicy,
  segmentBytes: number,
  cacheEntries: number,
  logger: WalLogger | undefined,
): Promise<GroupStore> {
  const logDir = joinPath(dir, "log");
  const snapDir = joinPath(dir, "snapshots");
  const parent = dir.includes("/") ? dir.slice(0, dir.lastIndexOf("/")) || "/" : ".";
  const created = !(await disk.exists(logDir)) || !(await disk.exists(snapDir));
  await disk.mkdir(logDir);
  await disk.mkdir(snapDir);
  if (created) {
    // New directory entries are durable only once their parent directories are synced.
    await disk.syncDir(parent);
    await disk.syncDir(dir);
  }
  await removeTempFiles(disk, dir);
  // A killed process (unlike a power loss) leaves its last renames and unlinks in the page cache,
  // not yet durable. The store is about to rely on what it finds (term/vote, peer state, the
  // compaction floor, the newest snapshot) and to build durable state on top of it: make those
  // directory entries durable first, or a later power loss could keep a compaction floor and lose
  // the snapshot below it, or forget a vote the node has acted on again (test/restart.test.ts).
  // File contents need no sync here: every state and snapshot file is fdatasynced before its
  // rename, and `recoverLog` syncs the last segment.
  await disk.syncDir(dir);
  await disk.syncDir(logDir);
  await disk.syncDir(snapDir);
  const termVote = await loadState(disk, dir, "tav", KIND_TERM_VOTE);
  const peers = await loadState(disk, dir, "peers", KIND_PEERS);
  const floorState = await loadState(disk, logDir, "first", KIND_FLOOR);
  const floor =
    floorState.payload !== undefined && floorState.payload.length === 8
      ? getU64(viewOf(floorState.payload), 0)
      : undefined;
  const log = await recoverLog(
    disk,
    logDir,
    floor !== undefined && floor >= 1 ? floor : undefined,
    logger,
  );
  const snapshots = await recoverSnapshots(disk, snapDir);
  const decodedTermVote = decodeTermVote(termVote.payload);
  const mark = await recoverMark(disk, logDir, log, decodedTermVote.term);
  const damagedStateCopies = [
    ...termVote.damaged,
    ...peers.damaged,
    ...floorState.damaged.map((name) => `log/${name}`),
    ...(mark.damaged ? [`log/${MARK_FILE}`] : []),
  ];
  const recovery: RecoveryReport = {
    truncatedTail: log.truncatedTail,
    lostTail: mark.lostTail,
    corrupt: log.corrupt,
    damagedStateCopies,
    invalidSnapshots: snapshots.invalid,
  };
  if (
    log.corrupt.length > 0 ||
    damagedStateCopies.length > 0 ||
    snapshots.invalid.length > 0 ||
    mark.lostTail !== undefined
  ) {
    logger?.warn("wal: damage found on open", {
      corrupt: log.corrupt.length,
      lostTail: mark.lostTail,
      damagedStateCopies,
      invalidSnapshots: snapshots.invalid,
    });
  }
  return new Store({
    disk,
    dir,
    logDir,
    snapDir,
    syncPolicy,
    segmentBytes,
    cacheEntries,
    logger,
    recovery,
    segments: log.segments,
    firstIndex: log.firstIndex,
    terms: log.terms,
    corrupt: log.corrupt,
    termVote: decodedTermVote,
    mark: mark.value,
    markSeq: mark.seq,
    markFile: mark.file,
    stateSeq: Math.max(termVote.seq, peers.seq, floorState.seq),
    peerState: peers.payload,
    snapshot: snapshots.newest,
  });
}

/**
 * Loads the durable mark (wal-format.md §8) and compares it with the recovered log. A mark ahead of
 * the log's end (Raft's up-to-date order) means records that were synced are gone: the
 * `lostTail`. A missing mark file (a new store, or one written before the mark existed) is created
 * from the log's end. A mark file with no valid slot is damage of unknown extent: the lost tail is
 * then unbounded at the highest term the node can have written, and the file is rewritten with that
 * value so the finding survives a restart until the log moves past it.
 */
async function recoverMark(
  disk: Disk,
  logDir: string,
  log: { readonly firstIndex: number; readonly terms: readonly number[] },
  currentTerm: number,
): Promise<{
  value: LogEnd;
  seq: number;
  file: DiskFile;
  lostTail: LogEnd | undefined;
  damaged: boolean;
}> {
  const lastIndex = log.firstIndex + log.terms.length - 1;
  const lastTerm = log.terms.at(-1);
  const bytes = await readWholeFile(disk, joinPath(logDir, MARK_FILE));
  const newest = bytes === undefined ? undefined : newestMark(bytes);
  const damaged = bytes !== undefined && newest === undefined;
  let value: LogEnd;
  let seq: number;
  let lostTail: LogEnd | undefined;
  if (newest !== undefined) {
    value = { index: newest.index, term: newest.term };
    seq = newest.seq;
    // With an empty log or an unreadable last header the log's last term is unknown: compare
    // indexes only. Otherwise a mark of a higher term at or below the end is damage too.
    const behind =
      newest.index > lastIndex ||
      (lastTerm !== undefined && lastTerm >= 0 && newest.term > lastTerm);
    if (behind) lostTail = value;
  } else {
    const termKnown = lastTerm !== undefined && lastTerm >= 0;
    value = damaged
      ? { index: Number.MAX_SAFE_INTEGER, term: Math.max(currentTerm, termKnown ? lastTerm : 0) }
      : { index: Math.max(lastIndex, 0), term: termKnown ? lastTerm : 0 };
    if (damaged) lostTail = value;
    seq = 1;
    // Each slot lives at `(seq % 2) * MARK_SLOT_BYTES`: the next write (seq 2) goes to the other
    // slot, never over this one.
    const initial = new Uint8Array(MARK_SLOT_BYTES * 2);
    initial.set(encodeMark({ seq, ...value }), (seq % 2) * MARK_SLOT_BYTES);
    await writeFileAtomic(disk, logDir, MARK_FILE, initial);
  }
  const file = await disk.open(joinPath(logDir, MARK_FILE), "write");
  // A mark write a killed process left in the page cache is what we just read: keep it.
  await file.datasync();
  return { value, seq, file, lostTail, damaged };
}

async function removeTempFiles(disk: Disk, dir: string): Promise<void> {
  let removed = false;
  for (const name of await disk.list(dir)) {
    if (name.endsWith(".tmp")) {
      await disk.unlink(joinPath(dir, name));
      removed = true;
    }
  }
  if (removed) await disk.syncDir(dir);
}

interface SnapshotRef {
  readonly name: string;
  readonly term: number;
  readonly index: number;
}

async function recoverSnapshots(
  disk: Disk,
  snapDir: string,
): Promise<{ newest: SnapshotRef | undefined; invalid: string[] }> {
  const candidates: SnapshotRef[] = [];
  let removed = false;
  for (const name of await disk.list(snapDir)) {
    const parsed = parseSnapshotFileName(name);
    if (parsed !== undefined) candidates.push({ name, ...parsed });
    else if (name.endsWith(".tmp")) {
      await disk.unlink(joinPath(snapDir, name));
      removed = true;
    }
  }
  if (removed) await disk.syncDir(snapDir);
  candidates.sort((a, b) => b.index - a.index || b.term - a.term);
  const invalid: string[] = [];
  for (const candidate of candidates) {
    const bytes = await readWholeFile(disk, joinPath(snapDir, candidate.name));
    const snapshot = bytes === undefined ? undefined : decodeSnapshot(bytes);
    if (
      snapshot !== undefined &&
      snapshot.index === candidate.index &&
      snapshot.term === candidate.term
    ) {
      return { newest: candidate, invalid };
    }
    invalid.push(candidate.name);
  }
  return { newest: undefined, invalid };
}

interface StoreInit {
  readonly disk: Disk;
  readonly dir: string;
  readonly logDir: string;
  readonly snapDir: string;
  readonly syncPolicy: SyncPolicy;
  readonly segmentBytes: number;
  readonly cacheEntries: number;
  readonly logger: WalLogger | undefined;
  readonly recovery: RecoveryReport;
  readonly segments: Segment[];
  readonly firstIndex: number;
  readonly terms: number[];
  readonly corrupt: readonly number[];
  readonly termVote: TermVote;
  readonly mark: LogEnd;
  readonly markSeq: number;
  readonly markFile: DiskFile;
  readonly stateSeq: number;
  readonly peerState: Uint8Array | undefined;
  readonly snapshot: SnapshotRef | undefined;
}

class Store implements GroupStore {
  readonly recovery: RecoveryReport;
  readonly #init: StoreInit;
  // Logical log: what every issued operation says, served to readers immediately.
  #first: number;
  readonly #terms: number[];
  /** Payload per index: always present for records not yet written, else a cache entry or hole. */
  readonly #datas: (Uint8Array | undefined)[];
  readonly #corrupt: Set<number>;
  /** Indexes whose repair is queued: their payload must stay in memory until rewritten. */
  readonly #repairing = new Set<number>();
  /** Every logical index ≤ this is physically written (so its payload may leave memory). */
  #writtenLast: number;
  /** Bumped by each truncation, so a round issued before one does not advance `#writtenLast`. */
  #epoch = 0;
  readonly #cacheOrder: number[] = [];
  #cacheHead = 0;
  #termVote: TermVote;
  #peerState: Uint8Array | undefined;
  #snapshot: SnapshotRef | undefined;
  #stateSeq: number;
  // Physical log: only the queue's worker touches it, in issue order.
  readonly #segments: Segment[];
  #scratch: Uint8Array = new Uint8Array(64 * 1024);
  /** Append rounds written whose fdatasync has not returned, oldest first. */
  readonly #inflight: InFlight[] = [];
  /** First index written since the last completed sync, or `undefined` if all is durable. */
  #unsyncedFrom: number | undefined;
  /** Last index physically written. */
  #writtenThrough = 0;
  /** Term of `#writtenThrough` (0 when unknown: an empty log, or an unreadable header). */
  #writtenThroughTerm = 0;
  /** The durable mark as last written (wal-format.md §8). */
  #mark: LogEnd;
  #markSeq: number;
  readonly #markFile: DiskFile;
  #dirty = false;
  #appendsSinceSync = 0;
  readonly #stats = { syncs: 0, markSyncs: 0, appends: 0, records: 0, maxAppendsPerSync: 0 };
  readonly #histogram: number[] = [];
  // The queue of disk work.
  readonly #queue: Op[] = [];
  #draining = false;
  #failure: WalError | undefined;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(init: StoreInit) {
    this.#init = init;
    this.recovery = init.recovery;
    this.#first = init.firstIndex;
    this.#terms = init.terms;
    this.#datas = new Array<Uint8Array | undefined>(init.terms.length).fill(undefined);
    this.#corrupt = new Set(init.corrupt);
    this.#writtenLast = init.firstIndex + init.terms.length - 1;
    this.#termVote = init.termVote;
    this.#peerState = init.peerState;
    this.#snapshot = init.snapshot;
    this.#stateSeq = init.stateSeq;
    this.#segments = init.segments;
    const last = init.segments.at(-1);
    this.#writtenThrough = last === undefined ? 0 : last.base + last.offsets.length - 1;
    this.#writtenThroughTerm = Math.max(init.terms.at(-1) ?? 0, 0);
    this.#mark = init.mark;
    this.#markSeq = init.markSeq;
    this.#markFile = init.markFile;
    const policy = init.syncPolicy;
    if (policy !== "always") {
      this.#timer = setInterval(() => this.#scheduleSync(), policy.intervalMs);
      this.#timer.unref?.();
    }
  }

  get firstIndex(): number {
    this.#usable();
    return this.#first;
  }

  get lastIndex(): number {
    this.#usable();
    return this.#first + this.#terms.length - 1;
  }

  get lastTerm(): number {
    this.#usable();
    if (this.#terms.length === 0) return 0;
    return this.term(this.#first + this.#terms.length - 1);
  }

  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.#segments) total += segment.size;
    return total;
  }

  get termVote(): TermVote {
    this.#usable();
    return this.#termVote;
  }

  get peerState(): Uint8Array | undefined {
    this.#usable();
    return this.#peerState;
  }

  get snapshotMeta(): { readonly term: number; readonly index: number } | undefined {
    this.#usable();
    const s = this.#snapshot;
    return s === undefined ? undefined : { term: s.term, index: s.index };
  }

  get durableMark(): LogEnd {
    return this.#mark;
  }

  get stats(): GroupCommitStats {
    return { ...this.#stats, histogram: [...this.#histogram] };
  }

  append(records: readonly LogRecord[]): Promise<void> {
    try {
      this.#usable();
      if (!Array.isArray(records)) throw invalid("append expects an array of records");
      if (records.length === 0) return Promise.resolve();
      let next = this.#first + this.#terms.length;
      let lastTerm = this.#knownLastTerm();
      for (const record of records) {
        if (record === null || typeof record !== "object")
          throw invalid("a record must be an object");
        if (record.index !== next) {
          throw invalid(`append expects index ${next}, got ${String(record.index)}`);
        }
        if (!isSafeInt(record.term, 0) || record.term < lastTerm) {
          throw invalid(`record ${next} has term ${String(record.term)} below ${lastTerm}`);
        }
        if (!(record.data instanceof Uint8Array) || record.data.length > MAX_RECORD_BYTES) {
          throw invalid(
            `record ${next} needs a Uint8Array payload of at most ${MAX_RECORD_BYTES} bytes`,
          );
        }
        lastTerm = record.term;
        next++;
      }
      const group = this.#openGroup();
      for (const record of records) {
        this.#terms.push(record.term);
        this.#datas.push(record.data);
        group.records.push(record);
      }
      group.calls++;
      this.#kick();
      return group.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  read(index: number): Uint8Array {
    this.#usable();
    this.#checkRange(index);
    if (this.#corrupt.has(index)) throw corruptRecord(index);
    const slot = index - this.#first;
    const cached = this.#datas[slot];
    if (cached !== undefined) return cached;
    const data = this.#readFromDisk(index);
    this.#datas[slot] = data;
    this.#remember(index);
    return data;
  }

  term(index: number): number {
    this.#usable();
    this.#checkRange(index);
    const term = this.#terms[index - this.#first] as number;
    if (term < 0) throw corruptRecord(index);
    return term;
  }

  truncateAfter(index: number): Promise<void> {
    try {
      this.#usable();
      if (!isSafeInt(index, 0))
        throw invalid(`truncateAfter needs an integer, got ${String(index)}`);
      const last = this.#first + this.#terms.length - 1;
      if (index < this.#first - 1) {
        throw new WalError("OUT_OF_RANGE", `truncateAfter(${index}) is below firstIndex - 1`);
      }
      if (index >= last) return Promise.resolve();
      const keep = index + 1 - this.#first;
      // The term the log will end with, for the durable mark; 0 when the WAL does not know it (an
      // empty log, whose last term is the snapshot's, or an unreadable header): the mark then
      // compares by index alone.
      const endTerm = keep > 0 ? Math.max(this.#terms[keep - 1] as number, 0) : 0;
      this.#terms.length = keep;
      this.#datas.length = keep;
      for (const i of this.#corrupt) if (i > index) this.#corrupt.delete(i);
      this.#writtenLast = Math.min(this.#writtenLast, index);
      this.#epoch++;
      return this.#task("truncate", true, () => this.#truncatePhysical(index, endTerm));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  compactBefore(index: number): Promise<void> {
    try {
      this.#usable();
      if (!isSafeInt(index, 1))
        throw invalid(`compactBefore needs an integer ≥ 1, got ${String(index)}`);
      if (index <= this.#first) return Promise.resolve();
      const drop = Math.min(index - this.#first, this.#terms.length);
      this.#terms.splice(0, drop);
      this.#datas.splice(0, drop);
      for (const i of this.#corrupt) if (i < index) this.#corrupt.delete(i);
      this.#first = index;
      this.#writtenLast = Math.max(this.#writtenLast, index - 1);
      return this.#task("compact", true, () => this.#compactPhysical(index));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  setTermVote(value: TermVote): Promise<void> {
    try {
      this.#usable();
      if (!isSafeInt(value?.term, 0) || typeof value.vote !== "string") {
        throw invalid("setTermVote needs { term: integer ≥ 0, vote: string }");
      }
      const copy = { term: value.term, vote: value.vote };
      this.#termVote = copy;
      const seq = ++this.#stateSeq;
      const { disk, dir } = this.#init;
      return this.#task("term/vote", true, () =>
        writeState(disk, dir, "tav", KIND_TERM_VOTE, seq, encodeTermVote(copy)),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  setPeerState(peerState: Uint8Array): Promise<void> {
    try {
      this.#usable();
      if (!(peerState instanceof Uint8Array)) throw invalid("setPeerState needs a Uint8Array");
      this.#peerState = peerState;
      const seq = ++this.#stateSeq;
      const { disk, dir } = this.#init;
      return this.#task("peer state", true, () =>
        writeState(disk, dir, "peers", KIND_PEERS, seq, peerState),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  repair(records: readonly LogRecord[]): Promise<void> {
    try {
      this.#usable();
      const plan = this.#planRepair(records);
      for (const record of records) {
        const slot = record.index - this.#first;
        this.#terms[slot] = record.term;
        this.#datas[slot] = record.data;
        this.#corrupt.delete(record.index);
        this.#repairing.add(record.index);
      }
      return this.#task("repair", true, () => this.#repairPhysical(plan, records));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Checks a repair against the contract and finds the bytes it replaces: the records must be
   * consecutive damaged indexes of one segment, forming whole damaged units (a payload-damaged
   * record, or a complete unreadable stretch), and their encoding must fill those bytes exactly.
   */
  #planRepair(records: readonly LogRecord[]): { segment: Segment; start: number } {
    if (!Array.isArray(records) || records.length === 0) {
      throw invalid("repair expects a non-empty array of records");
    }
    const first = (records[0] as LogRecord).index;
    const last = first + records.length - 1;
    const segment = this.#segmentOf(first);
    let size = 0;
    let previousTerm = first > this.#first ? (this.#terms[first - 1 - this.#first] as number) : 0;
    for (const [k, record] of records.entries()) {
      const index = first + k;
      if (record?.index !== index || !this.#corrupt.has(index)) {
        throw invalid(`repair: index ${String(record?.index)} is not the next damaged index`);
      }
      if (!(record.data instanceof Uint8Array) || !isSafeInt(record.term, 0)) {
        throw invalid(`repair: record ${index} needs a term and a Uint8Array payload`);
      }
      const known = this.#terms[index - this.#first] as number;
      if ((known >= 0 && known !== record.term) || record.term < previousTerm) {
        throw invalid(`repair: record ${index} has term ${record.term}, the log says ${known}`);
      }
      previousTerm = record.term;
      size += RECORD_HEADER_BYTES + record.data.length;
    }
    const nextTerm = last < this.lastIndex ? (this.#terms[last + 1 - this.#first] as number) : -1;
    if (nextTerm >= 0 && previousTerm > nextTerm) {
      throw invalid(`repair: record ${last} has a term above the next record's`);
    }
    if (segment === undefined || this.#segmentOf(last) !== segment) {
      throw invalid("repair: the records must lie in one segment");
    }
    const start = segment.offsets[first - segment.base];
    if (start === undefined) throw invalid(`repair: record ${first} has no place on disk`);
    const before = segment.offsets[first - 1 - segment.base];
    const after = segment.offsets[last + 1 - segment.base];
    const end = after ?? segment.size;
    if ((before === start && first > segment.base) || end === start || end - start !== size) {
      throw invalid(
        `repair: records ${first}..${last} do not exactly fill a damaged region (${end - start} bytes, need ${size}); truncate and re-append instead`,
      );
    }
    return { segment, start };
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    try {
      this.#usable();
      const { term, index, peerState, data } = snapshot ?? {};
      if (
        !isSafeInt(term, 0) ||
        !isSafeInt(index, 0) ||
        !(peerState instanceof Uint8Array) ||
        !(data instanceof Uint8Array) ||
        data.length > 0xffffffff
      ) {
        throw invalid(
          "saveSnapshot needs { term, index: integers ≥ 0, peerState, data: Uint8Array }",
        );
      }
      const current = this.#snapshot;
      if (current !== undefined && index < current.index) {
        throw invalid(`snapshot index ${index} is below the current snapshot's ${current.index}`);
      }
      const bytes = encodeSnapshot({ term, index, peerState, data });
      const name = snapshotFileName(index, term);
      this.#snapshot = { name, term, index };
      return this.#task("snapshot", true, () => this.#writeSnapshot(name, bytes));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  loadSnapshot(): Promise<Snapshot | undefined> {
    try {
      this.#usable();
      return this.#task("snapshot read", false, async () => {
        const ref = this.#snapshot;
        if (ref === undefined) return undefined;
        const bytes = await readWholeFile(this.#init.disk, joinPath(this.#init.snapDir, ref.name));
        const snapshot = bytes === undefined ? undefined : decodeSnapshot(bytes);
        if (snapshot === undefined || snapshot.index !== ref.index || snapshot.term !== ref.term) {
          throw new WalError("CORRUPT", `wal: snapshot ${ref.name} is damaged or missing`);
        }
        return snapshot;
      }) as Promise<Snapshot | undefined>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#usable();
    const done = this.#task("close", true, async () => {
      if (this.#timer !== undefined) clearInterval(this.#timer);
      const last = this.#segments.at(-1);
      if (this.#dirty && last !== undefined) await this.#syncAndMark(last);
      for (const segment of this.#segments) await segment.file.close();
      await this.#markFile.close();
    });
    // Calls made from now on fail with CLOSED; work queued before this call still runs.
    this.#closed = true;
    await done;
  }

  // ---- validation helpers -------------------------------------------------------------------

  #usable(): void {
    if (this.#failure !== undefined) {
      throw new WalError("CLOSED", `wal: store closed after a failure: ${this.#failure.message}`, {
        cause: this.#failure,
      });
    }
    if (this.#closed) throw new WalError("CLOSED", "wal: store is closed");
  }

  #checkRange(index: number): void {
    const last = this.#first + this.#terms.length - 1;
    if (!Number.isInteger(index) || index < this.#first || index > last) {
      throw new WalError(
        "OUT_OF_RANGE",
        `wal: index ${String(index)} is outside [${this.#first}, ${last}]`,
      );
    }
  }

  #knownLastTerm(): number {
    for (let k = this.#terms.length - 1; k >= 0; k--) {
      const term = this.#terms[k] as number;
      if (term >= 0) return term;
    }
    return 0;
  }

  // ---- cache --------------------------------------------------------------------------------

  /** Records that `index`'s payload sits in memory; evicts the oldest beyond the bound. */
  #remember(index: number): void {
    const order = this.#cacheOrder;
    order.push(index);
    while (order.length - this.#cacheHead > this.#init.cacheEntries) {
      const victim = order[this.#cacheHead++] as number;
      // Only written records may leave memory: an unwritten payload is the only copy.
      if (victim >= this.#first && victim <= this.#writtenLast && !this.#repairing.has(victim)) {
        const slot = victim - this.#first;
        if (slot < this.#datas.length) this.#datas[slot] = undefined;
      }
    }
    if (this.#cacheHead > 4096 && this.#cacheHead * 2 > order.length) {
      order.splice(0, this.#cacheHead);
      this.#cacheHead = 0;
    }
  }

  #readFromDisk(index: number): Uint8Array {
    const segment = this.#segmentOf(index);
    const slot = segment === undefined ? -1 : index - segment.base;
    const offset = segment?.offsets[slot];
    const length = segment?.lengths[slot];
    if (segment === undefined || offset === undefined || length === undefined || length < 0) {
      throw corruptRecord(index);
    }
    let bytes: Uint8Array;
    try {
      bytes = segment.file.readSync(RECORD_HEADER_BYTES + length, offset);
    } catch (error) {
      throw toWalError(error, `wal: reading record ${index}`);
    }
    const header = decodeHeader(bytes, viewOf(bytes), 0);
    if (
      header === undefined ||
      header.index !== index ||
      header.dataLength !== length ||
      bytes.length !== RECORD_HEADER_BYTES + length ||
      crc32c(bytes, RECORD_HEADER_BYTES) !== header.dataCrc
    ) {
      // Damage that appeared after open: remember it so later reads agree, and tell the operator.
      this.#corrupt.add(index);
      this.#init.logger?.warn("wal: record failed its checksum on read", { index });
      throw corruptRecord(index);
    }
    return bytes.subarray(RECORD_HEADER_BYTES);
  }

  #segmentOf(index: number): Segment | undefined {
    const segments = this.#segments;
    let lo = 0;
    let hi = segments.length - 1;
    let found: Segment | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const segment = segments[mid] as Segment;
      if (segment.base <= index) {
        found = segment;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  // ---- the queue ----------------------------------------------------------------------------

  #task(what: string, fatal: boolean, run: () => Promise<unknown>): Promise<void> {
    return new Promise<unknown>((resolve, reject) => {
      this.#enqueue({ kind: "task", what, fatal, run, resolve, reject });
    }) as Promise<void>;
  }

  /** The append group at the queue's tail, opening (and enqueueing) a new one if needed. */
  #openGroup(): AppendGroup {
    const tail = this.#queue.at(-1);
    if (tail?.kind === "append") return tail;
    let resolve: () => void = () => undefined;
    let reject: (error: unknown) => void = () => undefined;
    const promise = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    const group: AppendGroup = {
      kind: "append",
      records: [],
      calls: 0,
      epoch: this.#epoch,
      promise,
      resolve,
      reject,
    };
    // Not kicked yet: the caller fills the group first, so the worker never sees it empty.
    this.#queue.push(group);
    return group;
  }

  #enqueue(op: Op): void {
    this.#queue.push(op);
    this.#kick();
  }

  #kick(): void {
    if (this.#draining) return;
    this.#draining = true;
    // Start the worker on a later turn of the event loop, not now: every caller that runs in this
    // turn (for example all those just resolved by the last sync) then joins the same round.
    setImmediate(() => void this.#drain());
  }

  #scheduleSync(): void {
    if (!this.#dirty || this.#failure !== undefined || this.#closed) return;
    if (this.#queue.some((op) => op.kind === "task" && op.what === "interval sync")) return;
    this.#task("interval sync", true, async () => {
      const last = this.#segments.at(-1);
      if (this.#dirty && last !== undefined) await this.#syncAndMark(last);
    }).catch(() => {
      // The failure is recorded in #failure and reported by every later call.
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      if (this.#failure !== undefined) {
        const closed = new WalError("CLOSED", "wal: store closed after a failure", {
          cause: this.#failure,
        });
        for (const op of this.#queue.splice(0)) op.reject(closed);
        break;
      }
      const head = this.#queue[0] as Op;
      if (head.kind === "append") {
        const oldest = this.#inflight[0];
        if (oldest !== undefined && this.#inflight.length >= PIPELINE_DEPTH) {
          await oldest.done;
          // Let the callers just resolved issue their next appends before the next round is
          // cut; otherwise closed-loop appenders split into alternating part-size rounds (one
          // takes whoever queued meanwhile, the next whoever was resolved), and every sync
          // covers less.
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        this.#queue.shift();
        try {
          await this.#appendRound(head);
        } catch (error) {
          head.reject(this.#fail(error, "append"));
        }
      } else {
        // Truncations, compactions and state writes see every earlier append durable first.
        await this.#settle();
        if (this.#failure !== undefined) continue;
        this.#queue.shift();
        try {
          head.resolve(await head.run());
        } catch (error) {
          head.reject(
            head.fatal ? this.#fail(error, head.what) : toWalError(error, `wal: ${head.what}`),
          );
        }
      }
    }
    this.#draining = false;
  }

  /** Waits until no append round's fdatasync is in flight. */
  async #settle(): Promise<void> {
    for (let oldest = this.#inflight[0]; oldest !== undefined; oldest = this.#inflight[0]) {
      await oldest.done;
    }
  }

  /** Starts the fdatasync that makes `group` durable; the queue moves on without waiting. */
  #startSync(segment: Segment, group: AppendGroup): void {
    const end = group.records.at(-1) as LogRecord;
    const entry: InFlight = {
      group,
      last: end.index,
      // The round resolves only once the mark names it too: an acknowledged record is always
      // covered by the mark, so recovery can tell its loss from a torn, never-synced write.
      done: segment.file
        .datasync()
        .then(() => this.#raiseMark({ index: end.index, term: end.term }))
        .then(
          () => this.#synced(entry),
          (error: unknown) => {
            this.#fail(error, "fdatasync");
          },
        ),
    };
    this.#inflight.push(entry);
  }

  /**
   * A round's fdatasync returned. It started after every earlier round's write had completed, so
   * it covers them too: resolve every round up to this one, in order.
   */
  #synced(entry: InFlight): void {
    if (this.#failure !== undefined) return;
    const at = this.#inflight.indexOf(entry);
    if (at < 0) return;
    const resolved = this.#inflight.splice(0, at + 1);
    let calls = 0;
    for (const r of resolved) calls += r.group.calls;
    this.#noteSync(calls);
    this.#markDurable(entry.last);
    if (entry.last >= this.#writtenThrough) this.#dirty = false;
    for (const r of resolved) {
      this.#afterRound(r.group);
      r.group.resolve();
    }
  }

  /** Every record up to `last` is durable: move the start of the unsynced stretch past it. */
  #markDurable(last: number): void {
    if (this.#unsyncedFrom === undefined || this.#unsyncedFrom > last) return;
    this.#unsyncedFrom = last < this.#writtenThrough ? last + 1 : undefined;
  }

  #fail(error: unknown, what: string): WalError {
    const failure = toWalError(error, `wal: ${what} failed`);
    this.#failure ??= failure;
    // Rounds whose sync has not returned are not known durable, whatever later syncs say.
    for (const entry of this.#inflight.splice(0)) entry.group.reject(failure);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#init.logger?.warn("wal: disk failure, store closed for good", { error: failure.message });
    return failure;
  }

  #afterRound(group: AppendGroup): void {
    // A round issued before a later truncation proves nothing about the records now at its
    // indexes; the next current round will. Remembering is safe either way (see #remember).
    if (group.epoch === this.#epoch) {
      this.#writtenLast = Math.max(this.#writtenLast, (group.records.at(-1) as LogRecord).index);
    }
    for (const record of group.records) this.#remember(record.index);
  }

  // ---- physical operations (run only by #drain, in issue order) -------------------------------

  /** A synchronous fdatasync outside the append pipeline (rolls, truncation, timer, close). */
  async #sync(segment: Segment): Promise<void> {
    await segment.file.datasync();
    this.#dirty = false;
    const covered = this.#appendsSinceSync;
    this.#appendsSinceSync = 0;
    this.#noteSync(covered);
    this.#markDurable(this.#writtenThrough);
  }

  /** `#sync`, then the mark moves to the end of what is now durable. */
  async #syncAndMark(segment: Segment): Promise<void> {
    await this.#sync(segment);
    await this.#raiseMark({ index: this.#writtenThrough, term: this.#writtenThroughTerm });
  }

  /**
   * Moves the durable mark forward to `end` (in Raft's up-to-date order; never backwards, so a
   * lost tail reported at open stays marked until the log has moved past it). Called only once
   * the records up to `end` are durable.
   */
  async #raiseMark(end: LogEnd): Promise<void> {
    if (isAhead(end, this.#mark)) await this.#writeMark(end);
  }

  /** Writes the mark into the slot its sequence number selects and fdatasyncs it. */
  async #writeMark(end: LogEnd): Promise<void> {
    const seq = ++this.#markSeq;
    this.#mark = end;
    await this.#markFile.write(encodeMark({ seq, ...end }), (seq % 2) * MARK_SLOT_BYTES);
    await this.#markFile.datasync();
    this.#stats.markSyncs++;
  }

  #noteSync(covered: number): void {
    this.#stats.syncs++;
    if (covered <= 0) return;
    const bucket = 31 - Math.clz32(covered);
    while (this.#histogram.length <= bucket) this.#histogram.push(0);
    this.#histogram[bucket] = (this.#histogram[bucket] as number) + 1;
    this.#stats.maxAppendsPerSync = Math.max(this.#stats.maxAppendsPerSync, covered);
  }

  async #appendRound(group: AppendGroup): Promise<void> {
    const { records } = group;
    const firstIndex = (records[0] as LogRecord).index;
    const lastIndex = (records.at(-1) as LogRecord).index;
    // Summed here, not as calls join: the lengths encoded below are the ones read now.
    let total = 0;
    for (const record of records) total += RECORD_HEADER_BYTES + record.data.length;
    let segment = this.#segments.at(-1);
    let created = false;
    if (
      segment === undefined ||
      segment.size >= this.#init.segmentBytes ||
      segment.base + segment.offsets.length !== firstIndex
    ) {
      // The previous segment must be durable before a new one exists: recovery treats only the
      // last segment's unsynced stretch as possibly torn.
      await this.#settle();
      if (segment !== undefined && this.#dirty) await this.#syncAndMark(segment);
      segment = await this.#createSegment(firstIndex);
      created = true;
    }
    if (this.#scratch.length < total) {
      this.#scratch = new Uint8Array(Math.max(total, this.#scratch.length * 2));
    }
    // Each record names the first index that may still be unsynced when it is written; recovery
    // may cut damage from there on, and nothing before it (see wal-format.md §5).
    if (this.#unsyncedFrom === undefined || this.#unsyncedFrom > firstIndex) {
      this.#unsyncedFrom = firstIndex;
    }
    const unsyncedFrom = this.#unsyncedFrom;
    const buffer = this.#scratch;
    const view = viewOf(buffer);
    const { offsets, lengths, size } = segment;
    let offset = 0;
    for (let k = 0; k < records.length; k++) {
      const record = records[k] as LogRecord;
      offsets.push(size + offset);
      lengths.push(record.data.length);
      offset += encodeRecord(buffer, view, offset, record, unsyncedFrom);
    }
    await segment.file.write(buffer.subarray(0, total), segment.size);
    segment.size += total;
    this.#writtenThrough = lastIndex;
    this.#writtenThroughTerm = (records.at(-1) as LogRecord).term;
    this.#dirty = true;
    this.#stats.appends += group.calls;
    this.#stats.records += records.length;
    if (this.#init.syncPolicy !== "always") {
      this.#appendsSinceSync += group.calls;
      if (created) await this.#init.disk.syncDir(this.#init.logDir);
      this.#afterRound(group);
      group.resolve();
    } else if (created) {
      // A new file's directory entry must be durable too; this rare round skips the pipeline.
      this.#appendsSinceSync += group.calls;
      await this.#sync(segment);
      await this.#init.disk.syncDir(this.#init.logDir);
      // Only now, with the file's name durable too, may the mark cover its records.
      await this.#raiseMark({ index: lastIndex, term: this.#writtenThroughTerm });
      this.#afterRound(group);
      group.resolve();
    } else {
      this.#startSync(segment, group);
    }
  }

  async #createSegment(base: number): Promise<Segment> {
    const name = segmentFileName(base);
    const file = await this.#init.disk.open(joinPath(this.#init.logDir, name), "create");
    const segment: Segment = { base, name, file, size: 0, offsets: [], lengths: [] };
    this.#segments.push(segment);
    return segment;
  }

  async #repairPhysical(
    plan: { segment: Segment; start: number },
    records: readonly LogRecord[],
  ): Promise<void> {
    const { segment, start } = plan;
    const first = (records[0] as LogRecord).index;
    let total = 0;
    for (const record of records) total += RECORD_HEADER_BYTES + record.data.length;
    const buffer = new Uint8Array(total);
    const view = viewOf(buffer);
    let offset = 0;
    for (const record of records) {
      segment.offsets[record.index - segment.base] = start + offset;
      segment.lengths[record.index - segment.base] = record.data.length;
      // Stamped as its own unsynced stretch: a torn rewrite is still damage mid-log, and only
      // these bytes were rewritten.
      offset += encodeRecord(buffer, view, offset, record, first);
    }
    await segment.file.write(buffer, start);
    if (segment === this.#segments.at(-1)) await this.#sync(segment);
    else await segment.file.datasync();
    for (const record of records) {
      this.#repairing.delete(record.index);
      this.#remember(record.index);
    }
  }

  async #truncatePhysical(index: number, endTerm: number): Promise<void> {
    const { disk, logDir } = this.#init;
    // The mark comes down first: a crash after the cut must not find a mark ahead of the log,
    // which would read as synced records lost. A crash before the cut leaves a mark behind the
    // log, which claims nothing. (The Raft layer truncates only what a leader contradicted, which
    // was never committed, so forgetting a lost tail reported at open is safe here as well.)
    const end: LogEnd = { index, term: endTerm };
    if (this.#mark.index > index) await this.#writeMark(end);
    if (this.#writtenThrough > index) {
      this.#writtenThrough = index;
      this.#writtenThroughTerm = endTerm;
    }
    let unlinked = false;
    // Newest first, so that any prefix of these unlinks that survives a crash leaves a log
    // without holes.
    for (
      let last = this.#segments.at(-1);
      last !== undefined && last.base > index;
      last = this.#segments.at(-1)
    ) {
      this.#segments.pop();
      await last.file.close();
      await disk.unlink(joinPath(logDir, last.name));
      unlinked = true;
    }
    if (unlinked) await disk.syncDir(logDir);
    const segment = this.#segments.at(-1);
    if (segment === undefined) {
      this.#unsyncedFrom = undefined;
      this.#dirty = false;
      return;
    }
    const keep = index + 1 - segment.base;
    if (keep < segment.offsets.length) {
      const cut = segment.offsets[keep] as number;
      await segment.file.truncate(cut);
      segment.offsets.length = keep;
      segment.lengths.length = keep;
      segment.size = cut;
    }
    await this.#sync(segment);
  }

  async #compactPhysical(index: number): Promise<void> {
    const { disk, logDir } = this.#init;
    const floor = new Uint8Array(8);
    setU64(viewOf(floor), 0, index);
    // The floor is durable before any segment goes, so a crash in between only leaves extra
    // segments that the next open deletes.
    await writeState(disk, logDir, "first", KIND_FLOOR, ++this.#stateSeq, floor);
    let unlinked = false;
    while (this.#segments.length > 0) {
      const segment = this.#segments[0] as Segment;
      if (segment.base + segment.offsets.length > index) break;
      this.#segments.shift();
      await segment.file.close();
      await disk.unlink(joinPath(logDir, segment.name));
      unlinked = true;
    }
    if (unlinked) await disk.syncDir(logDir);
    if (this.#segments.length === 0) {
      this.#unsyncedFrom = undefined;
      this.#dirty = false;
    }
  }

  async #writeSnapshot(name: string, bytes: Uint8Array): Promise<void> {
    const { disk, snapDir } = this.#init;
    await writeFileAtomic(disk, snapDir, name, bytes);
    let unlinked = false;
    for (const other of await disk.list(snapDir)) {
      if (other !== name && parseSnapshotFileName(other) !== undefined) {
        await disk.unlink(joinPath(snapDir, other));
        unlinked = true;
      }
    }
    if (unlinked) await disk.syncDir(snapDir);
  }
}

function invalid(message: string): WalError {
  return new WalError("INVALID_ARGUMENT", `wal: ${message}`);
}

function corruptRecord(index: number): WalError {
  return new WalError("CORRUPT", `wal: record ${index} is damaged; fetch it from a peer`);
}
