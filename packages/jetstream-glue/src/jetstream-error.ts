import { RaftError } from "@raft/codec";

/**
 * Every code a {@link JetStreamError} can carry. The package README has a table of which
 * functions produce which code and the NATS API error each one maps to.
 */
export type JetStreamErrorCode =
  /** A stream configuration field is missing, of the wrong type or out of range. */
  | "INVALID_CONFIG"
  /** A header block that is not `NATS/1.0[ status]\r\n(Key: value\r\n)*\r\n`. */
  | "BAD_HEADERS"
  /** A replicated command that is not one of the stream commands (wrong shape or types). */
  | "BAD_COMMAND"
  /** Snapshot bytes that are not a snapshot of this version, or of another stream. */
  | "BAD_SNAPSHOT"
  /** A publish subject that is not a valid subject or matches none of the stream's subjects. */
  | "SUBJECT_NOT_IN_STREAM"
  /** A message larger than `max_msg_size`. */
  | "MESSAGE_TOO_LARGE"
  /** Discard `new` and the stream holds `max_msgs` messages already. */
  | "MAX_MSGS"
  /** Discard `new` and the message would take the stream above `max_bytes`. */
  | "MAX_BYTES"
  /** `Nats-Expected-Stream` names another stream. */
  | "STREAM_MISMATCH"
  /** `Nats-Expected-Last-Sequence` or `Nats-Expected-Last-Subject-Sequence` does not match. */
  | "WRONG_LAST_SEQUENCE"
  /** `Nats-Expected-Last-Msg-Id` does not match the last message id of the stream. */
  | "WRONG_LAST_MSG_ID"
  /** `deleteMsg` of a sequence the stream does not hold (nats-server: 400 / 10043). */
  | "SEQUENCE_NOT_FOUND"
  /**
   * A purge that compacts to a sequence at most `last_seq` that the stream does not hold
   * (nats-server 2.9.10 answers its general stream error, 500 / 10051, "no message found").
   */
  | "NO_MESSAGE"
  /** A purge request that is not well formed (both `seq` and `keep`, a bad filter, ...). */
  | "BAD_PURGE";

/** All {@link JetStreamErrorCode} values, for exhaustive tests and documentation. */
export const JETSTREAM_ERROR_CODES: readonly JetStreamErrorCode[] = [
  "INVALID_CONFIG",
  "BAD_HEADERS",
  "BAD_COMMAND",
  "BAD_SNAPSHOT",
  "SUBJECT_NOT_IN_STREAM",
  "MESSAGE_TOO_LARGE",
  "MAX_MSGS",
  "MAX_BYTES",
  "STREAM_MISMATCH",
  "WRONG_LAST_SEQUENCE",
  "WRONG_LAST_MSG_ID",
  "SEQUENCE_NOT_FOUND",
  "NO_MESSAGE",
  "BAD_PURGE",
];

/**
 * The error object of the JetStream JSON API (`{"code":400,"err_code":10071,"description":...}`),
 * which the stream state machine returns as a result instead of throwing.
 */
export interface ApiError {
  /** HTTP-like status: 400, 404, 500 or 503. */
  readonly code: number;
  /** The NATS JetStream error code (`10071`, ...); 10003 (bad request) for our own codes. */
  readonly err_code: number;
  readonly description: string;
}

// The HTTP-like status and NATS error code each of our codes maps to (docs.nats.io, JetStream
// errors). Codes without a NATS counterpart use 10003, "bad request".
const API_CODES: Readonly<Record<JetStreamErrorCode, readonly [number, number]>> = {
  INVALID_CONFIG: [400, 10052],
  BAD_HEADERS: [400, 10003],
  BAD_COMMAND: [400, 10003],
  BAD_SNAPSHOT: [500, 10003],
  SUBJECT_NOT_IN_STREAM: [400, 10003],
  MESSAGE_TOO_LARGE: [400, 10054],
  MAX_MSGS: [503, 10077],
  MAX_BYTES: [503, 10077],
  STREAM_MISMATCH: [400, 10060],
  WRONG_LAST_SEQUENCE: [400, 10071],
  WRONG_LAST_MSG_ID: [400, 10070],
  SEQUENCE_NOT_FOUND: [400, 10043],
  NO_MESSAGE: [500, 10051],
  BAD_PURGE: [400, 10003],
};

/**
 * The only error `@raft/jetstream-glue` throws. `message` is the NATS API description where NATS
 * has one (`"maximum messages exceeded"`, `"wrong last sequence: 5"`), so it can go to a client
 * as is; {@link JetStreamError.toApiError} gives the whole JSON API error.
 */
export class JetStreamError extends RaftError {
  override readonly name: string = "JetStreamError";
  // `declare` narrows the inherited field without re-initialising it after super().
  declare readonly code: JetStreamErrorCode;

  /**
   * @param code - one of {@link JetStreamErrorCode}.
   * @param message - the description, NATS's wording where it has one.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: JetStreamErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }

  /** The JetStream JSON API error for this error (status, NATS `err_code`, description). */
  toApiError(): ApiError {
    const [status, errCode] = API_CODES[this.code];
    return { code: status, err_code: errCode, description: this.message };
  }
}
