// The public surface of @raft/jetstream-glue (slice 1: the stream store and its state machine).

export type { HeaderBlock } from "./header-block";
export { encodeHeaderBlock, headerValue, parseHeaderBlock } from "./header-block";
export type { ApiError, JetStreamErrorCode } from "./jetstream-error";
export { JETSTREAM_ERROR_CODES, JetStreamError } from "./jetstream-error";
export type {
  DiscardPolicy,
  RetentionPolicy,
  StreamConfig,
  StreamConfigInput,
} from "./stream-config";
export { DEFAULT_DUPLICATE_WINDOW_MS, messageSize, validateStreamConfig } from "./stream-config";
export {
  decodeStreamSnapshot,
  encodeStreamSnapshot,
  STREAM_SNAPSHOT_VERSION,
} from "./stream-snapshot";
export type {
  DeleteCommand,
  ExpireCommand,
  ExpireResult,
  PubAck,
  PublishCommand,
  PurgeCommand,
  StreamCommand,
  StreamCommandError,
  StreamCommandResult,
  StreamStateMachine,
  StreamSuccess,
} from "./stream-state-machine";
export { applyStreamCommand, createStreamStateMachine } from "./stream-state-machine";
export type {
  PublishInput,
  PurgeRequest,
  StoredMessage,
  StoreResult,
  StreamState,
  StreamStoreData,
} from "./stream-store";
export { StreamStore } from "./stream-store";
