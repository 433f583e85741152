import type { DamagedRecord, HardState, LogRecord, LogView, Ready, SnapshotRecord } from "../types";

/**
 * An in-memory stand-in for the WAL, the term/vote file and the snapshot file: what it holds is
 * exactly what a shell would have made durable. Implements {@link LogView} over the records, so a
 * node restarted from it sees only persisted state. Compaction follows `@raft/wal`'s
 * `compactBefore`: the log keeps `[firstIndex, lastIndex]`, empty when `lastIndex = firstIndex - 1`.
 */
export class MemoryStorage implements LogView {
  hardState: HardState = { term: 0, vote: "" };
  /** The persisted peer state (`peers.idx`), if any was ever handed out. */
  peerState: Uint8Array | undefined = undefined;
  /** The newest saved snapshot, if any. */
  snapshot: SnapshotRecord | undefined = undefined;
  /**
   * The end of a log that was durable and is partly gone, as `@raft/wal`'s durable mark reports
   * it (`recovery.lostTail`): set by {@link loseTail}, cleared once the log is again at least as
   * up to date, or truncated below it (the WAL lowers its mark before a truncation).
   */
  lostTail: { index: number; term: number } | undefined = undefined;
  private records: LogRecord[] = [];
  /** Damaged indexes (checksum failed) → whether the record's header (its term) survived. */
  private readonly damaged = new Map<number, boolean>();
  private first = 1;
  private byteCount = 0;

  firstIndex(): number {
    return this.first;
  }

  lastIndex(): number {
    return this.first - 1 + this.records.length;
  }

  term(index: number): number | undefined {
    if (this.damaged.get(index) === false) return undefined;
    return index === 0 ? 0 : this.records[index - this.first]?.term;
  }

  /**
   * The true term at `index` (damage ignored), the snapshot's term at its index included: what
   * the node wrote, for checkers.
   */
  termAt(index: number): number | undefined {
    const s = this.snapshot;
    if (s !== undefined && index === s.index) return s.term;
    return index === 0 ? 0 : this.records[index - this.first]?.term;
  }

  entry(index: number): Uint8Array | undefined {
    if (this.damaged.has(index)) return undefined;
    return this.records[index - this.first]?.data;
  }

  /**
   * Simulate a bit flip in the stored record at `index` (a checksum failure): `entry` no longer
   * returns it, and `term` neither unless `headerSurvives`. Returns false outside the log.
   */
  damage(index: number, headerSurvives: boolean): boolean {
    if (index < this.first || index > this.lastIndex()) return false;
    this.damaged.set(index, headerSurvives);
    return true;
  }

  /**
   * Simulate losing the last `count` durable records (a bit flip in the last synced round, a
   * misdirected write): they are gone from the log, and {@link lostTail} remembers the end they
   * had. Returns false if the log holds fewer records.
   */
  loseTail(count: number): boolean {
    const last = this.records.at(-1);
    if (count < 1 || last === undefined || count > this.records.length) return false;
    const end = { index: last.index, term: last.term };
    const held = this.lostTail;
    if (
      held === undefined ||
      end.term > held.term ||
      (end.term === held.term && end.index > held.index)
    ) {
      this.lostTail = end;
    }
    for (const r of this.records.splice(this.records.length - count)) {
      this.byteCount -= r.data.length;
      this.damaged.delete(r.index);
    }
    return true;
  }

  /** What a WAL's recovery would report: the damaged records, with the term when it survived. */
  damagedRecords(): DamagedRecord[] {
    const out: DamagedRecord[] = [];
    for (const [index, header] of this.damaged) {
      const term = this.records[index - this.first]?.term;
      out.push(header && term !== undefined ? { index, term } : { index });
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /** The stored record at `index` as written (damage ignored, for checkers). */
  record(index: number): LogRecord | undefined {
    return this.records[index - this.first];
  }

  bytes(): number {
    return this.byteCount;
  }

  /**
   * Make the persistent parts of `ready` durable, in the contract's order: hard state, peer state, snapshot,
   * truncation, compaction, appends. Returns the records dropped by the truncation, if any.
   */
  persist(ready: Ready): readonly LogRecord[] {
    if (ready.wipe === true) {
      this.damaged.clear();
      this.snapshot = undefined;
      this.records = [];
      this.first = 1;
      this.byteCount = 0;
    }
    if (ready.hardState !== undefined) this.hardState = ready.hardState;
    if (ready.peerState !== undefined) this.peerState = ready.peerState;
    const snap = ready.snapshot;
    if (snap !== undefined && (this.snapshot === undefined || snap.index >= this.snapshot.index)) {
      this.snapshot = snap;
    }
    let dropped: LogRecord[] = [];
    const t = ready.truncateAfter;
    if (t !== undefined && t < this.lastIndex()) {
      const keep = Math.max(0, t - this.first + 1);
      dropped = this.records.slice(keep);
      this.records.length = keep;
      for (const r of dropped) this.byteCount -= r.data.length;
    }
    if (ready.compactBefore !== undefined) this.compactBefore(ready.compactBefore);
    // Tolerate hand-built batches of older callers that lack `repair`.
    for (const r of ready.repair ?? []) this.repair(r);
    for (const [index] of this.damaged) {
      if (index < this.first || index > this.lastIndex()) this.damaged.delete(index);
    }
    for (const r of ready.append) {
      if (r.index !== this.lastIndex() + 1) {
        throw new Error(`storage: append of ${r.index} after ${this.lastIndex()}`);
      }
      this.records.push(r);
      this.byteCount += r.data.length;
    }
    this.settleLostTail(t, ready.wipe === true);
    return dropped;
  }

  /** The durable mark's rules: lowered by a truncation below it, passed by a longer log. */
  private settleLostTail(truncatedAfter: number | undefined, wiped: boolean): void {
    const held = this.lostTail;
    if (held === undefined) return;
    const lastIndex = this.lastIndex();
    const lastTerm = this.termAt(lastIndex) ?? 0;
    if (
      wiped ||
      (truncatedAfter !== undefined && truncatedAfter < held.index) ||
      lastTerm > held.term ||
      (lastTerm === held.term && lastIndex >= held.index)
    ) {
      this.lostTail = undefined;
    }
  }

  private repair(r: LogRecord): void {
    const at = r.index - this.first;
    const old = this.records[at];
    const header = this.damaged.get(r.index);
    // A surviving header pins the term; a lost one lets the leader's copy decide it.
    if (old === undefined || header === undefined || (header && old.term !== r.term)) {
      throw new Error(`storage: repair of ${r.index} that is not damaged or has another term`);
    }
    this.records[at] = r;
    this.byteCount += r.data.length - old.data.length;
    this.damaged.delete(r.index);
  }

  private compactBefore(index: number): void {
    if (this.records.length === 0) {
      // An empty log continues at `index` (after a start-up truncation of a log with a gap, it
      // may even move back to right after the snapshot).
      this.first = index;
      return;
    }
    if (index <= this.first) return;
    const gone = this.records.slice(0, index - this.first);
    for (const r of gone) this.byteCount -= r.data.length;
    this.records = this.records.slice(index - this.first);
    this.first = index;
  }
}
