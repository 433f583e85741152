import { RaftError } from "@raft/codec";

/**
 * Every code a {@link WalError} can carry. The package README has a table of which functions
 * produce which code.
 */
export type WalErrorCode =
  /** Stored bytes fail their checksum or framing (a damaged record, state copy or snapshot). */
  | "CORRUPT"
  /** The disk reported an error (EIO and anything else that is not "no space"). */
  | "IO"
  /** The disk is full (ENOSPC, EDQUOT). */
  | "NO_SPACE"
  /** The store was closed, or an earlier write or fsync failed and closed it for good. */
  | "CLOSED"
  /** An index outside `[firstIndex, lastIndex]`, or a truncation/compaction point out of range. */
  | "OUT_OF_RANGE"
  /** A caller passed a value that breaks the contract (non-contiguous index, bad number, …). */
  | "INVALID_ARGUMENT";

/** All {@link WalErrorCode} values, for exhaustive tests and documentation. */
export const WAL_ERROR_CODES: readonly WalErrorCode[] = [
  "CORRUPT",
  "IO",
  "NO_SPACE",
  "CLOSED",
  "OUT_OF_RANGE",
  "INVALID_ARGUMENT",
];

/**
 * The only error `@raft/wal` throws or rejects with. Callers `switch` on `code`; the underlying
 * failure (a Node `ErrnoException`, or the error that closed the store) is chained as `cause`.
 * It extends `RaftError` from `@raft/codec`, the base of every package's error class.
 */
export class WalError extends RaftError {
  override readonly name: string = "WalError";
  /** The machine-readable failure code. */
  override readonly code: WalErrorCode;

  /**
   * @param code - the machine-readable failure code.
   * @param message - a sentence that names what was wrong.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: WalErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.code = code;
  }
}

/**
 * Turns anything a {@link Disk} threw into a `WalError`: `ENOSPC`/`EDQUOT` become `NO_SPACE`, an
 * existing `WalError` is returned unchanged, everything else becomes `IO`.
 */
export function toWalError(error: unknown, what: string): WalError {
  if (error instanceof WalError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new WalError("NO_SPACE", `${what}: no space left on device`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new WalError("IO", `${what}: ${detail}`, { cause: error });
}
