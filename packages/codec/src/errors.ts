/**
 * The base class of every error our packages throw at an IO edge (bad bytes from the network, a
 * failed write, a corrupt file). Each package defines exactly one subclass with a closed `code`
 * union (`CodecError`, `WalError`, …); callers `switch` on `code`. The original failure, when
 * there is one, is chained as `cause`.
 */
export class RaftError extends Error {
  override readonly name: string = "RaftError";
  /** A SCREAMING_SNAKE code; each subclass narrows it to a closed union. */
  readonly code: string;

  /**
   * @param code - the machine-readable failure code.
   * @param message - a human-readable sentence that names what was wrong.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Every code a {@link CodecError} can carry. The package README has a table of which functions
 * produce which code.
 */
export type CodecErrorCode =
  /** The input ends before a fixed field, an entry or a declared length is complete. */
  | "TRUNCATED"
  /** Bytes remain after a complete frame (append entry after its lterm, peer state after its u16). */
  | "TRAILING_BYTES"
  /** A fixed-size frame (AER 25, vote request 32, vote response 17, node id 8) has another length. */
  | "BAD_LENGTH"
  /** An append-entry entry declares length 0 (the length always covers the type byte). */
  | "BAD_ENTRY_LENGTH"
  /** An entry type that is not allowed on the wire (unknown, or the local-only Catchup). */
  | "BAD_ENTRY_TYPE"
  /** A node id that is not 8 printable ASCII characters (or "" where a missing leader is allowed). */
  | "BAD_NODE_ID"
  /** More than 65,535 entries in one append entry. */
  | "TOO_MANY_ENTRIES"
  /** Entry data of 2^31 bytes or more. */
  | "ENTRY_TOO_LARGE"
  /** A decoded u64 above Number.MAX_SAFE_INTEGER, or an encoded value above its field's range. */
  | "VALUE_TOO_LARGE"
  /** A number to encode that is not a non-negative integer (negative, fractional, NaN, ±Infinity). */
  | "BAD_NUMBER"
  /** A malformed uvarint: unterminated, longer than 10 bytes, overflowing u64, or not minimal. */
  | "BAD_VARINT"
  /** A subject that is not one of the `$NRG.*` forms, or a bad group / inbox token. */
  | "BAD_SUBJECT"
  /** A name that is not a NATS Raft group name (`_meta_`, `S-R<n><F|M>-<8>`, `C-R<n><F|M>-<8>`). */
  | "BAD_GROUP_NAME"
  /** Payload bytes that are not exactly one MessagePack value, or a value msgpackr cannot encode. */
  | "BAD_PAYLOAD";

/** All {@link CodecErrorCode} values, for exhaustive tests and documentation. */
export const CODEC_ERROR_CODES: readonly CodecErrorCode[] = [
  "TRUNCATED",
  "TRAILING_BYTES",
  "BAD_LENGTH",
  "BAD_ENTRY_LENGTH",
  "BAD_ENTRY_TYPE",
  "BAD_NODE_ID",
  "TOO_MANY_ENTRIES",
  "ENTRY_TOO_LARGE",
  "VALUE_TOO_LARGE",
  "BAD_NUMBER",
  "BAD_VARINT",
  "BAD_SUBJECT",
  "BAD_GROUP_NAME",
  "BAD_PAYLOAD",
];

/**
 * The only error `@raft/codec` throws. Decoders throw it for any malformed input and never return
 * a partially filled object; encoders throw it when a value breaks a protocol limit.
 */
export class CodecError extends RaftError {
  override readonly name: string = "CodecError";
  // `declare` narrows the inherited field's type without redefining it (a class field would be
  // re-initialised to undefined after super() under useDefineForClassFields).
  declare readonly code: CodecErrorCode;

  /**
   * @param code - one of {@link CodecErrorCode}.
   * @param message - what was wrong, with offsets or values where they help.
   * @param options - `cause`: the underlying error, if any (e.g. msgpackr's).
   */
  constructor(code: CodecErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/**
 * Normalises any thrown value into an `Error`: an `Error` is returned as is, anything else is
 * wrapped in a new `Error` whose message describes the value and whose `cause` is the value.
 */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  try {
    text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    // BigInt, circular objects and the like: fall back to the tag, which never throws.
    text = Object.prototype.toString.call(value);
  }
  return new Error(`non-error thrown: ${text}`, { cause: value });
}
