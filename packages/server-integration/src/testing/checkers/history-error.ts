/**
 * Why a recorded history was rejected before any checking started. A rejected history is a bug in
 * the recorder (or a damaged history file), never a verdict about the system under test.
 *
 * - `UNMATCHED_COMPLETION`: an `ok` / `fail` / `info` event for a process with no open `invoke`.
 * - `DOUBLE_INVOKE`: an `invoke` for a process whose previous operation has not completed.
 * - `MISMATCHED_COMPLETION`: a completion whose `f` (or `key`) differs from its `invoke`.
 * - `BAD_TIME`: a time that is not a finite number, or a completion earlier than its `invoke`.
 * - `BAD_OPERATION`: an unknown `f`, a missing `key`, or a value of the wrong shape for the workload.
 * - `DUPLICATE_VALUE`: a queue value appended twice (queue values must be unique).
 */
export type HistoryErrorCode =
  | "UNMATCHED_COMPLETION"
  | "DOUBLE_INVOKE"
  | "MISMATCHED_COMPLETION"
  | "BAD_TIME"
  | "BAD_OPERATION"
  | "DUPLICATE_VALUE";

/**
 * Thrown by the history readers ({@link pairHistory}, {@link kvOperationsFromHistory},
 * {@link checkQueue}) when a history is malformed. `eventIndex` is the position of the offending
 * event in the input array, or `-1` when the problem is not tied to one event.
 *
 * TODO(lead): rebase onto `RaftError` from `@raft/codec` once it is exported (issue 8).
 */
export class HistoryError extends Error {
  /** The closed reason code; callers `switch` on it. */
  readonly code: HistoryErrorCode;
  /** Index of the offending event in the input array, `-1` when not tied to one event. */
  readonly eventIndex: number;

  constructor(code: HistoryErrorCode, message: string, eventIndex = -1, options?: ErrorOptions) {
    super(message, options);
    this.name = "HistoryError";
    this.code = code;
    this.eventIndex = eventIndex;
  }
}
