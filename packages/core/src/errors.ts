import { RaftError } from "@raft/codec";

/**
 * Codes of {@link RaftCoreError}. All of them report misuse of the node by its caller (the shell)
 * or a broken invariant; bad network input never throws, it is dropped and counted.
 */
export type RaftCoreErrorCode =
  /** `ready()` was called while the previous batch was not yet advanced. */
  | "READY_IN_FLIGHT"
  /** `advance(ready)` got a batch that is not the one in flight. */
  | "NOT_IN_FLIGHT"
  /** Options given to `createRaftNode` are invalid (id length, group, timing). */
  | "INVALID_OPTIONS"
  /** An internal invariant broke (a bug): the node must not be used any more. */
  | "INVARIANT"
  /**
   * A committed record cannot be read from the `LogView` or does not decode (a storage fault):
   * the node cannot apply further and must not be used any more.
   */
  | "LOG_UNREADABLE";

/** The one error class of `@raft/core`. */
export class RaftCoreError extends RaftError {
  override readonly name: string = "RaftCoreError";
  override readonly code: RaftCoreErrorCode;

  /**
   * @param code - the machine-readable failure code.
   * @param message - what went wrong.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: RaftCoreErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.code = code;
  }
}
