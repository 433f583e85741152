// The node-server app's programmatic surface (for tests and embedding). The CLI is src/main.ts,
// the local cluster launcher src/cluster.ts.
export type { LoadOptions, LoadReport } from "./bench-load";
export { LOAD_LIMITS, runLoad } from "./bench-load";
export type { CliResult } from "./cli";
export { parseCommandLine, USAGE } from "./cli";
export type {
  ClientConfig,
  Endpoint,
  FabricConfig,
  LogLevel,
  NatsFabricConfig,
  NodeConfig,
  NodeConfigInput,
  ParseConfigResult,
  PeerConfig,
  TimingConfig,
} from "./config";
export {
  DEFAULT_CLIENT_HOST,
  DEFAULT_CLIENT_PORT,
  DEFAULT_SNAPSHOT_ENTRIES,
  formatEndpoint,
  LOG_LEVELS,
  parseEndpoint,
  parseNodeConfig,
} from "./config";
export type { DataDirLock, LockLogger } from "./data-dir-lock";
export { acquireDataDirLock, LOCK_FILE_NAME } from "./data-dir-lock";
export type { NatsFabric, NatsFabricOptions } from "./fabric/nats-fabric";
export {
  createNatsFabric,
  DEFAULT_NATS_CONNECT_TIMEOUT_MS,
  DEFAULT_NATS_RECONNECT_WAIT_MS,
} from "./fabric/nats-fabric";
export type { NodeFabric } from "./fabric/node-fabric";
export { fabricRoutes, isNatsFabric } from "./fabric/node-fabric";
export type { KvFailure, KvOutcome, KvServiceContext } from "./kv-service";
export { FORWARDED_HEADER, keyError, kvGet, kvWrite } from "./kv-service";
export type { KvCommand, KvEntry, KvResult, KvStateMachine } from "./kv-state-machine";
export { createKvStateMachine } from "./kv-state-machine";
export type { AppLogger } from "./logger";
export { createAppLogger } from "./logger";
export type { BridgeFrame } from "./nats/bridge-frame";
export { decodeBridgeFrame, encodeBridgeFrame } from "./nats/bridge-frame";
export type { CloseReason, ConnectionLimits } from "./nats/client-connection";
export type {
  ClientLimits,
  ClientListener,
  ClientListenerOptions,
  ClientListenerStats,
  InternalHandler,
  NatsLogger,
} from "./nats/client-listener";
export { startClientListener } from "./nats/client-listener";
export type {
  BridgeFabric,
  ClusterBridgeOptions,
  ClusterBridgeStats,
  RemoteDelivery,
} from "./nats/cluster-bridge";
export { BRIDGE_PREFIX, ClusterBridge } from "./nats/cluster-bridge";
export type { ConnectOptions } from "./nats/connect-options";
export { parseConnectOptions } from "./nats/connect-options";
export type { NatsHeaders } from "./nats/headers";
export { decodeHeaders, encodeHeaders, headerValue } from "./nats/headers";
export {
  KV_MAX_IN_FLIGHT,
  KV_SUBJECT_PREFIX,
  READ_HEADER,
  startKvNatsService,
} from "./nats/kv-nats-service";
export type { NatsErrorCode } from "./nats/nats-error";
export { errText, NATS_ERROR_CODES, NatsError } from "./nats/nats-error";
export type { ClientOp, ParserLimits, ParseStep } from "./nats/protocol-parser";
export { ProtocolParser } from "./nats/protocol-parser";
export {
  isValidPublishSubject,
  isValidSubscribeSubject,
  MAX_SUBJECT_LENGTH,
  subjectMatches,
  tokenize,
} from "./nats/subject";
export type { SublistEntry, SublistMatch } from "./nats/sublist";
export { Sublist } from "./nats/sublist";
export type { NatsMessage, Subscription, SubscriptionOwner } from "./nats/subscription";
export type { RunningNode, StartNodeOptions } from "./node";
export { startNode } from "./node";
export type { NodeErrorCode } from "./node-error";
export { NODE_ERROR_CODES, NodeError } from "./node-error";
