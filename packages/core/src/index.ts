export type { ResolvedTiming } from "./config";
export { BATCH_BYTES_MAX, BATCH_ENTRIES_MAX, DEFAULT_TIMING } from "./config";
export type { RaftCoreErrorCode } from "./errors";
export { RaftCoreError } from "./errors";
export { createRaftNode } from "./node";
export type {
  CommittedEntry,
  Frame,
  HardState,
  Inbound,
  LeadChange,
  LogRecord,
  LogView,
  OutboundMessage,
  PeerInfo,
  ProposeResult,
  RaftNode,
  RaftNodeOptions,
  RaftProgress,
  RaftSize,
  RaftStats,
  RaftSubjects,
  RaftTiming,
  Ready,
  SoftState,
  UnsafeTestingFaults,
} from "./types";
export { RaftState } from "./types";
