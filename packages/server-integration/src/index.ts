// The public surface of @raft/server-integration, listed by name.

// --- Fabric -------------------------------------------------------------------------------------
export type {
  Fabric,
  FabricErrorCode,
  FabricHandler,
  FabricLogger,
  FabricMessage,
  FabricMetrics,
  LinkFaults,
  MemoryFabric,
  MemoryNetwork,
  MemoryNetworkOptions,
  MemoryNetworkStats,
  PublishResult,
  RandomFloat,
  RouteFabric,
  RouteFabricOptions,
  RouteFrame,
  RouteInfo,
  RouteLimits,
  RoutePeer,
  Subscription,
} from "./fabric";
export {
  createMemoryNetwork,
  createRouteFabric,
  createSeededRandom,
  DEFAULT_ROUTE_LIMITS,
  decodeRouteFrame,
  encodeRouteFrame,
  FABRIC_ERROR_CODES,
  FabricError,
  isValidPattern,
  isValidSubject,
  ROUTE_PROTOCOL_VERSION,
  RouteFrameReader,
  RouteOp,
  reconnectDelayMs,
  subjectMatches,
} from "./fabric";
// --- RaftServer ---------------------------------------------------------------------------------
export { createRaftServer, DEFAULT_SERVER_LIMITS } from "./server/raft-server";
export type { ServerErrorCode, ServerErrorOptions } from "./server/server-error";
export { SERVER_ERROR_CODES, ServerError } from "./server/server-error";
export type {
  AppliedCommand,
  Clock,
  GroupStatus,
  LeadChangeEvent,
  PeerStatus,
  QueueStatus,
  RaftGroup,
  RaftGroupConfig,
  RaftServer,
  RaftServerOptions,
  ServerLimits,
  ServerLogger,
  ServerStats,
  SnapshotPolicy,
  SnapshotStatus,
  StateMachine,
  TimerId,
  WalStatus,
} from "./server/types";
export type { ManualClock } from "./timer/manual-clock";
export { createManualClock } from "./timer/manual-clock";
export { createSystemClock } from "./timer/system-clock";
