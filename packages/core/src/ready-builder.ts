import type {
  HardState,
  LeadChange,
  LogRecord,
  OutboundMessage,
  ReadState,
  Ready,
  SnapshotRecord,
  SoftState,
} from "./types";

const NONE: readonly never[] = Object.freeze([]) as readonly never[];

/**
 * Accumulates the outputs of the node between two `ready()` calls and tracks where the shell's log
 * will end once it has handled every batch handed out so far (`shellLast`), so that a truncation is
 * only asked for when it removes records the shell has or will have.
 */
export class ReadyBuilder {
  hardStateDirty = false;
  truncateAfter: number | undefined = undefined;
  append: LogRecord[] = [];
  messages: OutboundMessage[] = [];
  leadChange: LeadChange | undefined = undefined;
  subscribe: string[] = [];
  unsubscribe: string[] = [];
  reads: ReadState[] = [];
  snapshot: SnapshotRecord | undefined = undefined;
  compactBefore: number | undefined = undefined;
  peerState: Uint8Array | undefined = undefined;
  wipe = false;
  repair: LogRecord[] = [];
  /** Last index of the shell's log after every batch handed out so far is handled. */
  shellLast: number;

  constructor(shellLast: number) {
    this.shellLast = shellLast;
  }

  /** Record a truncation of the in-memory log to `index`. */
  truncate(index: number): void {
    while (this.append.length > 0) {
      const last = this.append[this.append.length - 1];
      if (last === undefined || last.index <= index) break;
      this.append.pop();
    }
    this.repair = this.repair.filter((r) => r.index <= index);
    if (this.shellLast > index) {
      this.truncateAfter = Math.min(this.truncateAfter ?? index, index);
    }
  }

  /**
   * Record a snapshot to save and the compaction after it: pending appends below `before` are
   * covered by the snapshot and dropped, and the shell's log will continue at `before`.
   */
  compact(snapshot: SnapshotRecord, before: number): void {
    this.snapshot = snapshot;
    this.compactOnly(before);
  }

  /** `reset()`: the shell deletes the whole log and every snapshot; nothing pending survives. */
  wipeAll(): void {
    this.wipe = true;
    this.repair = [];
    this.truncateAfter = undefined;
    this.append = [];
    this.snapshot = undefined;
    this.compactBefore = undefined;
    this.shellLast = 0;
  }

  /** Record a compaction below `before` of a log whose snapshot is already durable. */
  compactOnly(before: number): void {
    this.compactBefore = Math.max(this.compactBefore ?? 0, before);
    this.append = this.append.filter((r) => r.index >= before);
    this.repair = this.repair.filter((r) => r.index >= before);
    if (this.shellLast < before - 1) this.shellLast = before - 1;
  }

  /** True when there is anything to hand out (committed entries are checked by the node). */
  pending(): boolean {
    return (
      this.hardStateDirty ||
      this.truncateAfter !== undefined ||
      this.append.length > 0 ||
      this.messages.length > 0 ||
      this.leadChange !== undefined ||
      this.subscribe.length > 0 ||
      this.unsubscribe.length > 0 ||
      this.reads.length > 0 ||
      this.snapshot !== undefined ||
      this.compactBefore !== undefined ||
      this.peerState !== undefined ||
      this.wipe ||
      this.repair.length > 0
    );
  }

  /** Build the batch and reset; returns the batch and the shell's last index after it. */
  take(
    hardState: HardState,
    committed: Ready["committed"],
    softState: SoftState | undefined,
    replayDone: boolean,
  ): { ready: Ready; last: number } {
    let last = this.truncateAfter ?? this.shellLast;
    if (this.compactBefore !== undefined && last < this.compactBefore - 1) {
      last = this.compactBefore - 1;
    }
    const tail = this.append[this.append.length - 1];
    if (tail !== undefined) last = tail.index;
    const ready: Ready = {
      ...(this.hardStateDirty ? { hardState } : {}),
      ...(this.snapshot !== undefined ? { snapshot: this.snapshot } : {}),
      ...(this.truncateAfter !== undefined ? { truncateAfter: this.truncateAfter } : {}),
      ...(this.compactBefore !== undefined ? { compactBefore: this.compactBefore } : {}),
      ...(this.peerState !== undefined ? { peerState: this.peerState } : {}),
      ...(this.wipe ? { wipe: true } : {}),
      repair: this.repair.length > 0 ? this.repair : NONE,
      append: this.append.length > 0 ? this.append : NONE,
      messages: this.messages.length > 0 ? this.messages : NONE,
      committed,
      ...(this.leadChange !== undefined ? { leadChange: this.leadChange } : {}),
      ...(softState !== undefined ? { softState } : {}),
      subscribe: this.subscribe.length > 0 ? this.subscribe : NONE,
      unsubscribe: this.unsubscribe.length > 0 ? this.unsubscribe : NONE,
      reads: this.reads.length > 0 ? this.reads : NONE,
      replayDone,
    };
    this.hardStateDirty = false;
    this.truncateAfter = undefined;
    this.append = [];
    this.messages = [];
    this.leadChange = undefined;
    this.subscribe = [];
    this.unsubscribe = [];
    this.reads = [];
    this.snapshot = undefined;
    this.compactBefore = undefined;
    this.peerState = undefined;
    this.wipe = false;
    this.repair = [];
    this.shellLast = last;
    return { ready, last };
  }
}

/** Shared empty array for `Ready` fields. */
export const EMPTY: readonly never[] = NONE;
