/**
 * Replies on `$NRG.R.<inbox>` carry either an append-entry response or a vote response, with
 * nothing in the subject to tell which; nats-server tells them apart by length (25 or 17 bytes),
 * and so do we.
 */
import { APPEND_ENTRY_RESPONSE_LENGTH, decodeAppendEntryResponse } from "./append-entry-response";
import { CodecError } from "./errors";
import type { AppendEntryResponse, Dialect, VoteResponse } from "./types";
import { decodeVoteResponse, VOTE_RESPONSE_LENGTH } from "./vote-response";

/** A decoded reply, told apart by `kind`. */
export type Reply =
  | { readonly kind: "appendEntryResponse"; readonly response: AppendEntryResponse }
  | { readonly kind: "voteResponse"; readonly response: VoteResponse };

/** Options of {@link decodeReply}. */
export interface DecodeReplyOptions {
  /** Wire dialect, used for vote responses; default `"current"`. */
  readonly dialect?: Dialect;
}

/**
 * Decodes a reply by its length: 25 bytes → append-entry response, 17 bytes → vote response.
 *
 * @throws CodecError BAD_LENGTH for any other length, and whatever the chosen decoder throws.
 */
export function decodeReply(bytes: Uint8Array, options?: DecodeReplyOptions): Reply {
  if (bytes.length === APPEND_ENTRY_RESPONSE_LENGTH) {
    return { kind: "appendEntryResponse", response: decodeAppendEntryResponse(bytes) };
  }
  if (bytes.length === VOTE_RESPONSE_LENGTH) {
    const dialect = options?.dialect ?? "current";
    return { kind: "voteResponse", response: decodeVoteResponse(bytes, { dialect }) };
  }
  throw new CodecError(
    "BAD_LENGTH",
    `a reply is ${APPEND_ENTRY_RESPONSE_LENGTH} or ${VOTE_RESPONSE_LENGTH} bytes, got ${bytes.length}`,
  );
}
