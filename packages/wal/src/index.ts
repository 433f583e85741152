export { crc32c } from "./crc32c";
export type { Disk, DiskFile, OpenMode } from "./disk";
export { openGroupStore } from "./group-store";
export { createNodeDisk } from "./node-disk";
export type { LogRecord } from "./record-format";
export { MAX_RECORD_BYTES, RECORD_HEADER_BYTES } from "./record-format";
export type { Snapshot } from "./snapshot-file";
export type {
  GroupCommitStats,
  GroupStore,
  GroupStoreOptions,
  LogEnd,
  RecoveryReport,
  SyncPolicy,
  TermVote,
  TruncatedTail,
  WalLogger,
} from "./types";
export type { WalErrorCode } from "./wal-error";
export { WAL_ERROR_CODES, WalError } from "./wal-error";
