/**
 * The vote response (nats-raft-spec §2.6), exactly 17 bytes: `term u64 · peer[8] · flags u8`.
 * Current dialect: bit 0 = granted, bit 1 = the voter's log is empty. v2.9 dialect: the byte is 1
 * (granted) or 0, and a v2.9 node reads only the value 1 as granted, so 0x03 would be a denial.
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
import type { Dialect, VoteResponse } from "./types";

/** Length in bytes of every vote response. */
export const VOTE_RESPONSE_LENGTH = 17;

const GRANTED_BIT = 0x01;
const EMPTY_BIT = 0x02;

/** Options of {@link encodeVoteResponse}. */
export interface EncodeVoteResponseOptions extends EncodeFixedOptions {
  /** Wire dialect; default `"current"`. */
  readonly dialect?: Dialect;
}

/** Options of {@link decodeVoteResponse}. */
export interface DecodeVoteResponseOptions {
  /** Wire dialect; default `"current"`. */
  readonly dialect?: Dialect;
}

/**
 * Encodes a vote response. Current dialect: flags = granted | empty << 1. v2.9 dialect: 1 when
 * granted, else 0; `empty` cannot be carried and is dropped. Returns a view of exactly 17 bytes
 * (into `options.buffer` when it is large enough).
 *
 * @throws CodecError BAD_NUMBER / VALUE_TOO_LARGE (term), BAD_NODE_ID (peer).
 */
export function encodeVoteResponse(
  vr: VoteResponse,
  options: EncodeVoteResponseOptions = {},
): Uint8Array {
  checkU64(vr.term, "term");
  checkNodeId(vr.peer, "peer", false);
  // Everything is validated before the first byte is written, so a rejected frame never leaves a
  // half-written caller buffer.
  const out = outputBuffer(VOTE_RESPONSE_LENGTH, options.buffer);
  writeU64(out, 0, vr.term);
  writeCheckedNodeId(out, 8, vr.peer);
  let flags = vr.granted ? GRANTED_BIT : 0;
  if ((options.dialect ?? "current") === "current" && vr.empty) flags |= EMPTY_BIT;
  out[16] = flags;
  return out;
}

/**
 * Decodes a vote response. Current dialect: granted = bit 0, empty = bit 1, other bits ignored
 * (as nats-server does). v2.9 dialect: granted = (byte == 1), empty = false.
 *
 * @throws CodecError BAD_LENGTH (not exactly 17 bytes), VALUE_TOO_LARGE, BAD_NODE_ID.
 */
export function decodeVoteResponse(
  bytes: Uint8Array,
  options: DecodeVoteResponseOptions = {},
): VoteResponse {
  if (bytes.length !== VOTE_RESPONSE_LENGTH) {
    throw new CodecError(
      "BAD_LENGTH",
      `vote response must be ${VOTE_RESPONSE_LENGTH} bytes, got ${bytes.length}`,
    );
  }
  const term = readU64(bytes, 0, "term");
  const peer = readNodeId(bytes, 8, "peer", false);
  const flags = bytes[16] as number;
  if ((options.dialect ?? "current") === "v2.9") {
    return { term, peer, granted: flags === 1, empty: false };
  }
  return { term, peer, granted: (flags & GRANTED_BIT) !== 0, empty: (flags & EMPTY_BIT) !== 0 };
}
