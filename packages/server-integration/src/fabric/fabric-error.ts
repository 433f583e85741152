import { RaftError } from "@raft/codec";

/** Every failure code a fabric produces. */
export type FabricErrorCode =
  /** A subject, reply or pattern is not a valid NATS-style subject. */
  | "INVALID_SUBJECT"
  /** A payload is larger than the configured limit. */
  | "PAYLOAD_TOO_LARGE"
  /** The fabric (or the network it belongs to) is closed. */
  | "CLOSED"
  /** An in-memory network already has a live fabric with that server name. */
  | "NAME_IN_USE"
  /** A route frame declares a length above `maxFrameBytes`. */
  | "FRAME_TOO_LARGE"
  /** A route frame is malformed (inconsistent lengths, bad UTF-8, invalid subject). */
  | "BAD_FRAME"
  /** A route frame has an operation code this version does not know. */
  | "UNKNOWN_OP"
  /** The peer closed the connection in the middle of a frame. */
  | "TRUNCATED_FRAME"
  /** The handshake failed: wrong magic, version, cluster name, a frame before HELLO, or timeout. */
  | "HANDSHAKE_FAILED"
  /** The peer answered no PING within the keepalive window. */
  | "STALE_CONNECTION"
  /** The peer does not drain its connection and control frames overflowed the hard bound. */
  | "SLOW_CONSUMER"
  /** A peer registered more subscription interest than `maxInterestPerRoute`. */
  | "INTEREST_LIMIT"
  /** The listener could not be opened. */
  | "LISTEN_FAILED"
  /** A socket-level error (connection refused, reset). */
  | "SOCKET_ERROR";

/** All {@link FabricErrorCode} values, for exhaustive tests and documentation. */
export const FABRIC_ERROR_CODES: readonly FabricErrorCode[] = [
  "INVALID_SUBJECT",
  "PAYLOAD_TOO_LARGE",
  "CLOSED",
  "NAME_IN_USE",
  "FRAME_TOO_LARGE",
  "BAD_FRAME",
  "UNKNOWN_OP",
  "TRUNCATED_FRAME",
  "HANDSHAKE_FAILED",
  "STALE_CONNECTION",
  "SLOW_CONSUMER",
  "INTEREST_LIMIT",
  "LISTEN_FAILED",
  "SOCKET_ERROR",
];

/**
 * The error class of the message fabric (a {@link RaftError}). Callers switch on `code`; `cause`
 * carries the underlying error when there is one (for example the socket error behind
 * `SOCKET_ERROR`).
 */
export class FabricError extends RaftError {
  override readonly name: string = "FabricError";
  // `declare` narrows the inherited field without re-initialising it after super().
  declare readonly code: FabricErrorCode;

  /**
   * @param code - one of {@link FabricErrorCode}.
   * @param message - what went wrong, naming the peer, subject or limit involved.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: FabricErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
