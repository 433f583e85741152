/**
 * The vote request (nats-raft-spec §2.5), exactly 32 bytes:
 * `term u64 · lastTerm u64 · lastIndex u64 · candidate[8]`. Identical in both dialects.
 */
import type { EncodeFixedOptions } from "./append-entry-response";
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
import type { VoteRequest } from "./types";

/** Length in bytes of every vote request. */
export const VOTE_REQUEST_LENGTH = 32;

/**
 * Encodes a vote request. Returns a view of exactly 32 bytes (into `options.buffer` when it is
 * large enough).
 *
 * @throws CodecError BAD_NUMBER / VALUE_TOO_LARGE (a u64 field that is not a non-negative safe
 *   integer), BAD_NODE_ID (candidate not 8 printable ASCII characters).
 */
export function encodeVoteRequest(vr: VoteRequest, options: EncodeFixedOptions = {}): Uint8Array {
  checkU64(vr.term, "term");
  checkU64(vr.lastTerm, "lastTerm");
  checkU64(vr.lastIndex, "lastIndex");
  checkNodeId(vr.candidate, "candidate", false);
  // Everything is validated before the first byte is written, so a rejected frame never leaves a
  // half-written caller buffer.
  const out = outputBuffer(VOTE_REQUEST_LENGTH, options.buffer);
  writeU64(out, 0, vr.term);
  writeU64(out, 8, vr.lastTerm);
  writeU64(out, 16, vr.lastIndex);
  writeCheckedNodeId(out, 24, vr.candidate);
  return out;
}

/**
 * Decodes a vote request.
 *
 * @throws CodecError BAD_LENGTH (not exactly 32 bytes), VALUE_TOO_LARGE, BAD_NODE_ID.
 */
export function decodeVoteRequest(bytes: Uint8Array): VoteRequest {
  if (bytes.length !== VOTE_REQUEST_LENGTH) {
    throw new CodecError(
      "BAD_LENGTH",
      `vote request must be ${VOTE_REQUEST_LENGTH} bytes, got ${bytes.length}`,
    );
  }
  return {
    term: readU64(bytes, 0, "term"),
    lastTerm: readU64(bytes, 8, "lastTerm"),
    lastIndex: readU64(bytes, 16, "lastIndex"),
    candidate: readNodeId(bytes, 24, "candidate", false),
  };
}
