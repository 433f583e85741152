import type { HardState, LogRecord, LogView, Ready } from "../types";

/**
 * An in-memory stand-in for the WAL and the term/vote file: what it holds is exactly what a shell
 * would have made durable. Implements {@link LogView} over the records, so a node restarted from it
 * sees only persisted state.
 */
export class MemoryStorage implements LogView {
  hardState: HardState = { term: 0, vote: "" };
  private records: LogRecord[] = [];
  private byteCount = 0;

  firstIndex(): number {
    return 1;
  }

  lastIndex(): number {
    return this.records.length;
  }

  term(index: number): number | undefined {
    return index === 0 ? 0 : this.records[index - 1]?.term;
  }

  entry(index: number): Uint8Array | undefined {
    return this.records[index - 1]?.data;
  }

  /** The stored record at `index`. */
  record(index: number): LogRecord | undefined {
    return this.records[index - 1];
  }

  bytes(): number {
    return this.byteCount;
  }

  /**
   * Make the persistent parts of `ready` durable, in the contract's order: hard state, truncation,
   * appends. Returns the indexes dropped by the truncation, `[from, to]` closed, if any.
   */
  persist(ready: Ready): readonly LogRecord[] {
    if (ready.hardState !== undefined) this.hardState = ready.hardState;
    let dropped: LogRecord[] = [];
    if (ready.truncateAfter !== undefined && ready.truncateAfter < this.records.length) {
      dropped = this.records.slice(ready.truncateAfter);
      this.records.length = ready.truncateAfter;
      for (const r of dropped) this.byteCount -= r.data.length;
    }
    for (const r of ready.append) {
      if (r.index !== this.records.length + 1) {
        throw new Error(`storage: append of ${r.index} after ${this.records.length}`);
      }
      this.records.push(r);
      this.byteCount += r.data.length;
    }
    return dropped;
  }
}
