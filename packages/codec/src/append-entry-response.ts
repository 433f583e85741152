/**
 * The append-entry response (nats-raft-spec §2.4), exactly 25 bytes:
 * `term u64 · index u64 · peer[8] · success u8`. Identical in both dialects.
 */
import {
  checkNodeId,
  checkU64,
  outputBuffer,
  readNodeId,
  readU64,
  writeCheckedNodeId,
  writeU64,
} from "./bytes";
import { CodecError } from "./errors";
import type { AppendEntryResponse } from "./types";

/** Length in bytes of every append-entry response. */
export const APPEND_ENTRY_RESPONSE_LENGTH = 25;

/** Options shared by the fixed-size encoders. */
export interface EncodeFixedOptions {
  /** Where to write the frame (from offset 0) when it is large enough; else a new array is used. */
  readonly buffer?: Uint8Array;
}

/**
 * Encodes an append-entry response; `success` is written as 1 or 0. Returns a view of exactly 25
 * bytes (into `options.buffer` when it is large enough).
 *
 * @throws CodecError BAD_NUMBER / VALUE_TOO_LARGE (term or index not a non-negative safe
 *   integer), BAD_NODE_ID (peer not 8 printable ASCII characters).
 */
export function encodeAppendEntryResponse(
  aer: AppendEntryResponse,
  options: EncodeFixedOptions = {},
): Uint8Array {
  checkU64(aer.term, "term");
  checkU64(aer.index, "index");
  checkNodeId(aer.peer, "peer", false);
  // Everything is validated before the first byte is written, so a rejected frame never leaves a
  // half-written caller buffer.
  const out = outputBuffer(APPEND_ENTRY_RESPONSE_LENGTH, options.buffer);
  writeU64(out, 0, aer.term);
  writeU64(out, 8, aer.index);
  writeCheckedNodeId(out, 16, aer.peer);
  out[24] = aer.success ? 1 : 0;
  return out;
}

/**
 * Decodes an append-entry response. Only the byte 1 means success; nats-server reads any other
 * value as failure and so do we (such a frame re-encodes with 0).
 *
 * @throws CodecError BAD_LENGTH (not exactly 25 bytes), VALUE_TOO_LARGE, BAD_NODE_ID.
 */
export function decodeAppendEntryResponse(bytes: Uint8Array): AppendEntryResponse {
  if (bytes.length !== APPEND_ENTRY_RESPONSE_LENGTH) {
    throw new CodecError(
      "BAD_LENGTH",
      `append-entry response must be ${APPEND_ENTRY_RESPONSE_LENGTH} bytes, got ${bytes.length}`,
    );
  }
  return {
    term: readU64(bytes, 0, "term"),
    index: readU64(bytes, 8, "index"),
    peer: readNodeId(bytes, 16, "peer", false),
    success: bytes[24] === 1,
  };
}
