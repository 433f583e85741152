// The public surface of @raft/server-integration, listed by name.

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

// --- Fabric -------------------------------------------------------------------------------------
export type { FabricErrorCode } from "./fabric";
export { FabricError } from "./fabric";
export type {
  LinkFaults,
  MemoryFabric,
  MemoryNetwork,
  MemoryNetworkOptions,
  MemoryNetworkStats,
} from "./fabric";
export { createMemoryNetwork } from "./fabric";
export type { RouteFabric, RouteFabricOptions, RouteInfo, RoutePeer } from "./fabric";
export { createRouteFabric } from "./fabric";
export type { RouteFrame } from "./fabric";
export {
  decodeRouteFrame,
  encodeRouteFrame,
  ROUTE_PROTOCOL_VERSION,
  RouteFrameReader,
  RouteOp,
} from "./fabric";
export type { RouteLimits } from "./fabric";
export { DEFAULT_ROUTE_LIMITS, reconnectDelayMs } from "./fabric";
export { createSeededRandom } from "./fabric";
export { isValidPattern, isValidSubject, subjectMatches } from "./fabric";
export type {
  Fabric,
  FabricHandler,
  FabricLogger,
  FabricMessage,
  FabricMetrics,
  PublishResult,
  RandomFloat,
  Subscription,
} from "./fabric";
