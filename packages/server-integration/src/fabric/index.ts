export type { FabricErrorCode } from "./fabric-error";
export { FABRIC_ERROR_CODES, FabricError } from "./fabric-error";
export type {
  LinkFaults,
  MemoryFabric,
  MemoryNetwork,
  MemoryNetworkOptions,
  MemoryNetworkStats,
} from "./memory-network";
export { createMemoryNetwork } from "./memory-network";
export type { RouteFabric, RouteFabricOptions, RouteInfo, RoutePeer } from "./route-fabric";
export { createRouteFabric } from "./route-fabric";
export type { RouteFrame } from "./route-frames";
export {
  decodeRouteFrame,
  encodeRouteFrame,
  ROUTE_PROTOCOL_VERSION,
  RouteFrameReader,
  RouteOp,
} from "./route-frames";
export type { RouteLimits } from "./route-limits";
export { DEFAULT_ROUTE_LIMITS, reconnectDelayMs } from "./route-limits";
export { createSeededRandom } from "./seeded-random";
export { isValidPattern, isValidSubject, subjectMatches } from "./subject";
export type {
  Fabric,
  FabricHandler,
  FabricLogger,
  FabricMessage,
  FabricMetrics,
  PublishResult,
  RandomFloat,
  Subscription,
} from "./types";
