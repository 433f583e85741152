import { RaftError } from "@raft/codec";

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

/** All {@link HistoryErrorCode} values, for exhaustive tests and documentation. */
export const HISTORY_ERROR_CODES: readonly HistoryErrorCode[] = [
  "UNMATCHED_COMPLETION",
  "DOUBLE_INVOKE",
  "MISMATCHED_COMPLETION",
  "BAD_TIME",
  "BAD_OPERATION",
  "DUPLICATE_VALUE",
];

/**
 * Thrown by the history readers ({@link pairHistory}, {@link kvOperationsFromHistory},
 * {@link checkQueue}) when a history is malformed (a {@link RaftError}). `eventIndex` is the
 * position of the offending event in the input array, or `-1` when the problem is not tied to one
 * event. The checkers themselves never throw: a verdict is a returned value.
 */
export class HistoryError extends RaftError {
  override readonly name: string = "HistoryError";
  // `declare` narrows the inherited field without re-initialising it after super().
  declare readonly code: HistoryErrorCode;
  /** Index of the offending event in the input array, `-1` when not tied to one event. */
  readonly eventIndex: number;

  /**
   * @param code - one of {@link HistoryErrorCode}.
   * @param message - what was wrong, naming the event index.
   * @param eventIndex - the offending event's position, or -1.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: HistoryErrorCode, message: string, eventIndex = -1, options?: ErrorOptions) {
    super(code, message, options);
    this.eventIndex = eventIndex;
  }
}
