import { RaftError } from "@raft/codec";

/**
 * Every code a {@link NodeError} can carry. The README's "Errors of the node" table says which
 * function produces which code.
 */
export type NodeErrorCode =
  /** Another live process holds `<dataDir>/LOCK`: two nodes on one data directory would corrupt the WAL. */
  | "DATA_DIR_LOCKED"
  /** `<dataDir>/LOCK` could not be created, read or replaced (permissions, a full disk, …). */
  | "DATA_DIR_LOCK_FAILED";

/** All {@link NodeErrorCode} values, for exhaustive tests and documentation. */
export const NODE_ERROR_CODES: readonly NodeErrorCode[] = [
  "DATA_DIR_LOCKED",
  "DATA_DIR_LOCK_FAILED",
];

/** The error class of the node's own start-up and storage checks (the NATS listener has {@link NatsError}). */
export class NodeError extends RaftError {
  override readonly name: string = "NodeError";
  declare readonly code: NodeErrorCode;

  /**
   * @param code - what was wrong (closed union).
   * @param message - a sentence naming the directory, file or process involved.
   * @param options - `cause`: the underlying error, if any (e.g. the `EACCES` of `open`).
   */
  constructor(code: NodeErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
