import type { HardState, LeadChange, LogRecord, OutboundMessage, Ready, SoftState } from "./types";

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
    if (this.shellLast > index) {
      this.truncateAfter = Math.min(this.truncateAfter ?? index, index);
    }
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
      this.unsubscribe.length > 0
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
    const tail = this.append[this.append.length - 1];
    if (tail !== undefined) last = tail.index;
    const ready: Ready = {
      ...(this.hardStateDirty ? { hardState } : {}),
      ...(this.truncateAfter !== undefined ? { truncateAfter: this.truncateAfter } : {}),
      append: this.append.length > 0 ? this.append : NONE,
      messages: this.messages.length > 0 ? this.messages : NONE,
      committed,
      ...(this.leadChange !== undefined ? { leadChange: this.leadChange } : {}),
      ...(softState !== undefined ? { softState } : {}),
      subscribe: this.subscribe.length > 0 ? this.subscribe : NONE,
      unsubscribe: this.unsubscribe.length > 0 ? this.unsubscribe : NONE,
      replayDone,
    };
    this.hardStateDirty = false;
    this.truncateAfter = undefined;
    this.append = [];
    this.messages = [];
    this.leadChange = undefined;
    this.subscribe = [];
    this.unsubscribe = [];
    this.shellLast = last;
    return { ready, last };
  }
}

/** Shared empty array for `Ready` fields. */
export const EMPTY: readonly never[] = NONE;
