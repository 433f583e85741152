import type { Disk } from "./disk";
import type { LogRecord } from "./record-format";
import type { Snapshot } from "./snapshot-file";

/**
 * When appends become durable. `"always"` (the default): every append round is fdatasynced before
 * its promises resolve. `{ intervalMs }`: append promises resolve once the bytes are written to the
 * OS, and a timer fdatasyncs every `intervalMs`; a process crash loses nothing, but a power loss or
 * kernel crash loses up to `intervalMs` of acknowledged appends, so Raft's "durable before ack"
 * rule no longer holds. Term/vote, peer state, snapshots and truncations are always synced.
 */
export type SyncPolicy = "always" | { readonly intervalMs: number };

/** Minimal structured logger; recovery findings and read-time corruption are logged through it. */
export interface WalLogger {
  warn(message: string, details?: Record<string, unknown>): void;
}

/** Options of {@link openGroupStore}. */
export interface GroupStoreOptions {
  /** Where bytes go: `createNodeDisk()` in production, a test disk from `@raft/wal/testing`. */
  readonly disk: Disk;
  /** Default `"always"`. */
  readonly syncPolicy?: SyncPolicy;
  /** A segment is closed and a new one started once it reaches this size. Default 16 MiB. */
  readonly segmentBytes?: number;
  /** How many recently written record payloads `read` serves from memory. Default 4,096. */
  readonly cacheEntries?: number;
  readonly logger?: WalLogger;
}

/** Persisted term and vote. `vote` is the id voted for in `term`, or `""` for no vote. */
export interface TermVote {
  readonly term: number;
  readonly vote: string;
}

/** The unsynced tail cut by recovery (see docs/design/wal-format.md §5). */
export interface TruncatedTail {
  /** Segment file name. */
  readonly segment: string;
  /** Bytes removed from its end. */
  readonly bytes: number;
  /** First index removed. */
  readonly fromIndex: number;
  /** How many indexes were removed that had a readable header or lay between two readable ones. */
  readonly records: number;
}

/** `(index, term)` of the end of a log. */
export interface LogEnd {
  readonly index: number;
  readonly term: number;
}

/** What `openGroupStore` found and did. Empty arrays and `undefined` mean a clean open. */
export interface RecoveryReport {
  /** The possibly torn last write round, cut off; `undefined` if the log ended cleanly. */
  readonly truncatedTail: TruncatedTail | undefined;
  /**
   * The durable mark (wal-format.md §8) is ahead of the recovered log (Raft's up-to-date order):
   * the store had made a log ending at `(index, term)` durable, and records of it are gone. Not a
   * torn write (those were never synced, so never acknowledged) but damage: a bit flip in the last
   * synced round, a misdirected write, a lost file. The Raft layer must act as if it may have
   * acknowledged that log (never vote for a candidate less up to date than it, never lead) until
   * it has the records again. `index` is `Number.MAX_SAFE_INTEGER` when the mark itself was
   * damaged (extent unknown; `term` is then the highest term the store knows). `undefined` on a
   * clean open, and after any power cut or crash without damage.
   */
  readonly lostTail: LogEnd | undefined;
  /**
   * Indexes in `[firstIndex, lastIndex]` whose record is damaged mid-log, ascending. They stay in
   * the log; `read` of them throws `CORRUPT`; the Raft layer should fetch them from peers.
   */
  readonly corrupt: readonly number[];
  /** State-file copies (`tav.a`, `peers.b`, …) that exist but failed their checksum. */
  readonly damagedStateCopies: readonly string[];
  /** Snapshot files that failed their checksum (left in place; removed by the next save). */
  readonly invalidSnapshots: readonly string[];
}

/** Group-commit counters since open. */
export interface GroupCommitStats {
  /** fdatasync calls on log segments. */
  readonly syncs: number;
  /**
   * Writes of the durable mark, each with its own fdatasync (wal-format.md §8): about one per
   * append round under the default sync policy, after the round's segment sync.
   */
  readonly markSyncs: number;
  /** `append` calls that wrote at least one record. */
  readonly appends: number;
  /** Records written. */
  readonly records: number;
  /** Most `append` calls one fdatasync covered. */
  readonly maxAppendsPerSync: number;
  /**
   * `histogram[k]` counts syncs that covered between 2^k and 2^(k+1) - 1 append calls (k = 0 is
   * exactly one).
   */
  readonly histogram: readonly number[];
}

/**
 * The durable state of one Raft group: the log, term and vote, peer state and the newest snapshot.
 * Query methods are synchronous and reflect every operation already *issued*, including ones whose
 * promise has not resolved yet; disk work happens in issue order behind them. Mutations resolve
 * once durable (subject to {@link SyncPolicy} for appends). After any failed disk write or sync the
 * store is closed for good: every later call throws or rejects with `WalError` `CLOSED` whose
 * `cause` is the original error.
 */
export interface GroupStore {
  /** What recovery found when the store was opened. */
  readonly recovery: RecoveryReport;
  /** First index in the log; after `compactBefore(i)` it is `i`, even when the log is empty. */
  readonly firstIndex: number;
  /** Last index in the log; `firstIndex - 1` when the log is empty. */
  readonly lastIndex: number;
  /**
   * Term of `lastIndex`; 0 when the log is empty (the Raft layer takes the term of
   * `firstIndex - 1` from its snapshot). Throws `CORRUPT` if that record's header is unreadable.
   */
  readonly lastTerm: number;
  /** Bytes of all segment files on disk. */
  readonly sizeBytes: number;
  /** The last term/vote set (`{ term: 0, vote: "" }` initially). */
  readonly termVote: TermVote;
  /** The last peer state set, or `undefined`. The caller must not mutate it. */
  readonly peerState: Uint8Array | undefined;
  /** `{ term, index }` of the newest snapshot, or `undefined`. */
  readonly snapshotMeta: { readonly term: number; readonly index: number } | undefined;
  /** Group-commit counters. */
  readonly stats: GroupCommitStats;
  /**
   * The durable mark: the end of the log last recorded as durable (wal-format.md §8). It moves
   * forward once each append round is synced, before the round resolves, and comes down only
   * when `truncateAfter` cuts below it.
   */
  readonly durableMark: LogEnd;

  /**
   * Appends records with consecutive indexes starting at `lastIndex + 1` and terms not below
   * `lastTerm`. Resolves once they are durable. Calls made while a sync is in flight are written
   * and synced together in the next round. Rejects `INVALID_ARGUMENT`, `IO`, `NO_SPACE`, `CLOSED`.
   * The store keeps references to `data`; callers must not mutate it.
   */
  append(records: readonly LogRecord[]): Promise<void>;
  /**
   * The payload of `index`, synchronously (from the cache or the segment file). Throws
   * `OUT_OF_RANGE` outside `[firstIndex, lastIndex]`, `CORRUPT` for a damaged record, `IO`,
   * `CLOSED`.
   */
  read(index: number): Uint8Array;
  /** Term of `index` in `[firstIndex, lastIndex]`; `CORRUPT` if its header is unreadable. */
  term(index: number): number;
  /** Removes every record after `index` (`index ≥ firstIndex - 1`). `OUT_OF_RANGE` below that. */
  truncateAfter(index: number): Promise<void>;
  /**
   * Removes every record before `index`; `firstIndex` becomes `index`. An `index` beyond
   * `lastIndex + 1` leaves an empty log whose next append must be `index`. Whole segment files are
   * deleted; records of a partly covered segment stay on disk but are no longer served.
   */
  compactBefore(index: number): Promise<void>;
  /**
   * Rewrites damaged records in place with payloads fetched from peers, durably. `records` must
   * be consecutive indexes that are currently damaged (in `recovery.corrupt`, or found damaged by
   * `read`), with the term the log knows for them (if their header survived) and terms that keep
   * the log non-decreasing, and their encoding must exactly fill the damaged bytes: a record whose
   * payload was damaged, or a whole unreadable stretch. Identical Raft entries have identical
   * sizes, so the right payloads always fit. Rejects `INVALID_ARGUMENT` otherwise (then truncate
   * and re-append instead), and `IO`, `NO_SPACE`, `CLOSED`.
   */
  repair(records: readonly LogRecord[]): Promise<void>;
  /** Durably replaces term and vote (both copies). */
  setTermVote(value: TermVote): Promise<void>;
  /** Durably replaces the peer state (both copies). */
  setPeerState(peerState: Uint8Array): Promise<void>;
  /**
   * Durably writes a snapshot, then deletes older snapshot files. `index` must not be below the
   * current snapshot's (`INVALID_ARGUMENT`). Does not compact the log.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Reads and verifies the newest snapshot; `undefined` if none. `CORRUPT` if it rotted since open. */
  loadSnapshot(): Promise<Snapshot | undefined>;
  /** Waits for queued work, syncs (interval policy), closes files. Later calls → `CLOSED`. */
  close(): Promise<void>;
}
