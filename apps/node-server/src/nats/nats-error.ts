import { RaftError } from "@raft/codec";

/**
 * Every code a {@link NatsError} can carry. The README's "NATS client protocol" section has a
 * table of which function produces which code and what the client sees.
 */
export type NatsErrorCode =
  /** A control line whose operation is not one a client may send. */
  | "UNKNOWN_OP"
  /** A known operation with the wrong number or shape of arguments (e.g. a size that is not a number). */
  | "BAD_ARGUMENTS"
  /** A control line longer than `client.maxControlLine` bytes (without its line end). */
  | "MAX_CONTROL_LINE"
  /** A `PUB`/`HPUB` announcing more than `client.maxPayload` bytes. */
  | "MAX_PAYLOAD"
  /** A payload that is not followed by `\r\n` where its announced size ends. */
  | "BAD_PAYLOAD_END"
  /** `CONNECT` options that are not a JSON object, or whose fields have the wrong types. */
  | "BAD_CONNECT"
  /**
   * A header block that does not start with `NATS/1.0` or has a malformed line, or an `HPUB` from a
   * client that did not announce `headers` in `CONNECT`.
   */
  | "BAD_HEADERS"
  /** A message forwarded by another node whose frame is truncated or malformed. */
  | "BAD_BRIDGE_FRAME";

/** All {@link NatsErrorCode} values, for exhaustive tests and documentation. */
export const NATS_ERROR_CODES: readonly NatsErrorCode[] = [
  "UNKNOWN_OP",
  "BAD_ARGUMENTS",
  "MAX_CONTROL_LINE",
  "MAX_PAYLOAD",
  "BAD_PAYLOAD_END",
  "BAD_CONNECT",
  "BAD_HEADERS",
  "BAD_BRIDGE_FRAME",
];

/** The one error class of the NATS client-protocol listener. */
export class NatsError extends RaftError {
  override readonly name: string = "NatsError";
  declare readonly code: NatsErrorCode;

  /**
   * @param code - what was wrong (closed union).
   * @param message - a sentence naming the offending input.
   * @param options - `cause`: the underlying error, if any (e.g. the `SyntaxError` of `JSON.parse`).
   */
  constructor(code: NatsErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/**
 * The text a client sees after `-ERR` for a protocol error (single-quoted on the wire). The
 * wording follows nats-server's where one exists, so that clients that match on it keep working.
 */
export function errText(error: NatsError): string {
  switch (error.code) {
    case "UNKNOWN_OP":
      return "Unknown Protocol Operation";
    case "MAX_CONTROL_LINE":
      return "Maximum Control Line Exceeded";
    case "MAX_PAYLOAD":
      return "Maximum Payload Violation";
    case "BAD_ARGUMENTS":
    case "BAD_PAYLOAD_END":
    case "BAD_HEADERS":
    case "BAD_BRIDGE_FRAME":
      return `Protocol Error: ${sanitize(error.message)}`;
    case "BAD_CONNECT":
      return `Invalid Connect Options: ${sanitize(error.message)}`;
    default: {
      const never: never = error.code;
      return String(never);
    }
  }
}

/** Keeps an `-ERR` line one printable line without quotes, whatever the client sent. */
function sanitize(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we strip
  return text.replace(/[\u0000-\u001f\u007f-\uffff']/g, "?").slice(0, 200);
}
