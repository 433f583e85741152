export type { ResolvedTiming } from "./config";
export { BATCH_BYTES_MAX, BATCH_ENTRIES_MAX, DEFAULT_TIMING } from "./config";
export type { RaftCoreErrorCode } from "./errors";
export { RaftCoreError } from "./errors";
export { createRaftNode } from "./node";
export type {
  CommittedEntry,
  DamagedRecord,
  Frame,
  HardState,
  Inbound,
  LeadChange,
  LocalDamage,
  LogRecord,
  LogView,
  MembershipRefusal,
  MembershipResult,
  OutboundMessage,
  PeerInfo,
  ProposeResult,
  RaftLimits,
  RaftNode,
  RaftNodeOptions,
  RaftProgress,
  RaftSize,
  RaftStats,
  RaftSubjects,
  RaftTiming,
  ReadState,
  Ready,
  SnapshotRecord,
  SnapshotResult,
  SoftState,
  UnsafeTestingFaults,
} from "./types";
export { RaftState } from "./types";
