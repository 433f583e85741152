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

  constructor(view: LogView) {
    this.view = view;
    this.lastIndex = view.lastIndex();
    this.lastTerm = this.lastIndex > 0 ? (view.term(this.lastIndex) ?? 0) : 0;
    this.cacheStart = this.lastIndex + 1;
  }

  /** First index held (by the view, or by the cache after a truncation below it). */
  firstIndex(): number {
    return Math.min(this.view.firstIndex(), this.cacheStart);
  }

  /** Term at `index`; 0 for index 0; `undefined` when not held. */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (index > this.lastIndex || index < 0) return undefined;
    if (index >= this.cacheStart) return this.terms[this.head + index - this.cacheStart];
    return this.view.term(index);
  }

  /** Decoded append entry at `index`, `undefined` when not held or undecodable. */
  entry(index: number): AppendEntry | undefined {
    if (index > this.lastIndex || index <= 0) return undefined;
    if (index >= this.cacheStart) return this.entries[this.head + index - this.cacheStart];
    const bytes = this.view.entry(index);
    return bytes === undefined ? undefined : decodeAE(bytes);
  }

  /** Encoded record at `index`. */
  data(index: number): Uint8Array | undefined {
    if (index > this.lastIndex || index <= 0) return undefined;
    if (index >= this.cacheStart) return this.datas[this.head + index - this.cacheStart];
    return this.view.entry(index);
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
