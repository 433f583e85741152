import type { AppendEntry } from "@raft/codec";
import type { LogView } from "./types";
import { decodeAE } from "./wire";

/**
 * The node's view of its Raft log: the persisted records behind the shell's {@link LogView}, plus
 * an in-memory tail `[cacheStart, lastIndex]` holding every record appended since start-up (or
 * since the last truncation below it) that has not yet been released after apply. The tail serves
 * terms and decoded entries without touching the view, and it is the only source for records the
 * shell has not persisted yet.
 *
 * Invariant: records below `cacheStart` are persisted and unchanged in the view, so they can be read
 * from it even while a truncation above them is still on its way to the shell.
 *
 * The log starts after the last snapshot (`baseIndex`, `baseTerm`, nats-server's papplied): indexes
 * at or below it are compacted, whatever the view still holds there, and `term(baseIndex)` is the
 * snapshot's term.
 */
export class RaftLog {
  private readonly view: LogView;
  /** Index of the last record (pindex). */
  lastIndex: number;
  /** Term of the last record (pterm). */
  lastTerm: number;
  private cacheStart: number;
  private head = 0;
  private terms: number[] = [];
  private entries: AppendEntry[] = [];
  private datas: Uint8Array[] = [];
  /**
   * Records repaired in place (damaged in the view, refetched from the leader), served until the
   * view holds them again; also terms known for damaged records whose header did not survive.
   */
  private readonly repaired = new Map<
    number,
    { term: number; ae: AppendEntry; data: Uint8Array }
  >();
  private readonly knownTerms = new Map<number, number>();
  /** Index of the last snapshot; 0 when none. */
  baseIndex: number;
  /** Term of the last snapshot. */
  baseTerm: number;
  /**
   * True when start-up found the view inconsistent with the snapshot (a gap between the snapshot
   * and the first record, or a log ending below the snapshot) and dropped every stored record.
   */
  readonly resetAtStart: boolean;

  constructor(view: LogView, base: { readonly index: number; readonly term: number } = ZERO) {
    this.view = view;
    this.baseIndex = base.index;
    this.baseTerm = base.term;
    const last = view.lastIndex();
    const gap = last > base.index && view.firstIndex() > base.index + 1;
    this.resetAtStart = base.index > 0 && (last < base.index || gap);
    if (this.resetAtStart || last <= base.index) {
      this.lastIndex = base.index;
      this.lastTerm = base.term;
    } else {
      this.lastIndex = last;
      this.lastTerm = last > 0 ? (view.term(last) ?? 0) : 0;
    }
    this.cacheStart = this.lastIndex + 1;
  }

  /** First index held (by the view, or by the cache after a truncation below it). */
  firstIndex(): number {
    return Math.max(this.baseIndex + 1, Math.min(this.view.firstIndex(), this.cacheStart));
  }

  /** Term at `index`; the snapshot's term at `baseIndex` (0 for 0); `undefined` when not held. */
  term(index: number): number | undefined {
    if (index === this.baseIndex) return this.baseTerm;
    if (index > this.lastIndex || index < this.baseIndex) return undefined;
    if (index >= this.cacheStart) return this.terms[this.head + index - this.cacheStart];
    const r = this.repaired.get(index);
    if (r !== undefined) return r.term;
    return this.view.term(index) ?? this.knownTerms.get(index);
  }

  /** Decoded append entry at `index`, `undefined` when not held or undecodable. */
  entry(index: number): AppendEntry | undefined {
    if (index > this.lastIndex || index <= this.baseIndex) return undefined;
    if (index >= this.cacheStart) return this.entries[this.head + index - this.cacheStart];
    const r = this.repaired.get(index);
    if (r !== undefined) return r.ae;
    const bytes = this.view.entry(index);
    return bytes === undefined ? undefined : decodeAE(bytes);
  }

  /** Encoded record at `index`. */
  data(index: number): Uint8Array | undefined {
    if (index > this.lastIndex || index <= this.baseIndex) return undefined;
    if (index >= this.cacheStart) return this.datas[this.head + index - this.cacheStart];
    return this.repaired.get(index)?.data ?? this.view.entry(index);
  }

  /** Append the record for `lastIndex + 1`. */
  append(term: number, ae: AppendEntry, data: Uint8Array): number {
    const index = this.lastIndex + 1;
    if (this.cacheStart > index) this.resetCache(index);
    this.terms.push(term);
    this.entries.push(ae);
    this.datas.push(data);
    this.lastIndex = index;
    this.lastTerm = term;
    return index;
  }

  /** Drop every record above `index` (caller guarantees `index` is not below commit). */
  truncateAfter(index: number): void {
    if (index >= this.lastIndex) return;
    if (index + 1 >= this.cacheStart) {
      const keep = this.head + index + 1 - this.cacheStart;
      this.terms.length = keep;
      this.entries.length = keep;
      this.datas.length = keep;
    } else {
      this.resetCache(index + 1);
    }
    this.lastIndex = index;
    this.lastTerm = this.term(index) ?? 0;
    this.forgetAbove(index);
  }

  private forgetAbove(index: number): void {
    for (const k of [...this.repaired.keys()]) if (k > index) this.repaired.delete(k);
    for (const k of [...this.knownTerms.keys()]) if (k > index) this.knownTerms.delete(k);
  }

  /** Overwrite the (damaged) record at `index` below the cache with the leader's copy. */
  repair(index: number, term: number, ae: AppendEntry, data: Uint8Array): void {
    if (index >= this.cacheStart) {
      const k = this.head + index - this.cacheStart;
      this.terms[k] = term;
      this.entries[k] = ae;
      this.datas[k] = data;
    } else this.repaired.set(index, { term, ae, data });
    if (index === this.lastIndex) this.lastTerm = term;
    this.knownTerms.delete(index);
  }

  /** The term of a damaged record whose header was lost, learned from its successor's pterm. */
  learnTerm(index: number, term: number): void {
    this.knownTerms.set(index, term);
    if (index === this.lastIndex) this.lastTerm = term;
  }

  /** A snapshot now covers `[1, index]` (`index` ≤ lastIndex, its term `term`): compact below it. */
  compact(index: number, term: number): void {
    this.baseIndex = index;
    this.baseTerm = term;
  }

  /** Replace the whole log by a snapshot at (`index`, `term`): the log is empty after it. */
  resetTo(index: number, term: number): void {
    this.baseIndex = index;
    this.baseTerm = term;
    this.lastIndex = index;
    this.lastTerm = term;
    this.resetCache(index + 1);
    this.repaired.clear();
    this.knownTerms.clear();
  }

  /** Forget cached records up to `index` (applied and persisted): they are read from the view now. */
  release(index: number): void {
    const upTo = Math.min(index, this.lastIndex);
    if (upTo < this.cacheStart) return;
    this.head += upTo - this.cacheStart + 1;
    this.cacheStart = upTo + 1;
    // Compact the arrays now and then instead of shifting them on every release.
    if (this.head > 1024 && this.head * 2 > this.terms.length) {
      this.terms = this.terms.slice(this.head);
      this.entries = this.entries.slice(this.head);
      this.datas = this.datas.slice(this.head);
      this.head = 0;
    }
  }

  private resetCache(start: number): void {
    this.cacheStart = start;
    this.head = 0;
    this.terms = [];
    this.entries = [];
    this.datas = [];
  }
}

const ZERO = { index: 0, term: 0 } as const;
