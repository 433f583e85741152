// The public surface of @raft/codec, listed by name.

export type {
  DecodeAppendEntryOptions,
  EncodeAppendEntryOptions,
} from "./append-entry";
export {
  APPEND_ENTRY_HEADER_LENGTH,
  appendEntrySize,
  decodeAppendEntry,
  ENTRY_HEADER_LENGTH,
  encodeAppendEntry,
  MAX_ENTRIES,
  MAX_ENTRY_DATA_LENGTH,
} from "./append-entry";
export type { EncodeFixedOptions } from "./append-entry-response";
export {
  APPEND_ENTRY_RESPONSE_LENGTH,
  decodeAppendEntryResponse,
  encodeAppendEntryResponse,
} from "./append-entry-response";
export { BASE62_ALPHABET } from "./base62";
export { isNodeId } from "./bytes";
export type { CodecErrorCode } from "./errors";
export { CODEC_ERROR_CODES, CodecError, RaftError, toError } from "./errors";
export type { GroupNameOptions, ParsedGroupName, StorageType } from "./group-names";
export {
  consumerGroupName,
  META_GROUP,
  parseGroupName,
  streamGroupName,
} from "./group-names";
export { INBOX_LENGTH, isInbox, newInbox } from "./inbox";
export { nodeIdFromServerName } from "./node-id";
export { decodeNodeIdPayload, encodeNodeIdPayload } from "./node-id-payload";
export { decodePayload, encodePayload } from "./payload";
export { decodePeerState, encodePeerState, peerStateSize } from "./peer-state";
export type { DecodeReplyOptions, Reply } from "./reply";
export { decodeReply } from "./reply";
export { sha256 } from "./sha256";
export type { GroupSubjectKind, InboxSubjectKind, ParsedSubject } from "./subjects";
export {
  appendEntrySubject,
  catchupSubject,
  isValidGroupToken,
  parseSubject,
  proposalSubject,
  removePeerSubject,
  replySubject,
  SUBJECT_PREFIX,
  voteSubject,
} from "./subjects";
export type {
  AppendEntry,
  AppendEntryResponse,
  Dialect,
  Entry,
  PeerState,
  RandomSource,
  VoteRequest,
  VoteResponse,
} from "./types";
export { EntryType, ExtensionState, NODE_ID_LENGTH } from "./types";
export { decodeVoteRequest, encodeVoteRequest, VOTE_REQUEST_LENGTH } from "./vote-request";
export type { DecodeVoteResponseOptions, EncodeVoteResponseOptions } from "./vote-response";
export { decodeVoteResponse, encodeVoteResponse, VOTE_RESPONSE_LENGTH } from "./vote-response";
