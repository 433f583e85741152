// The node-server app's programmatic surface (for tests and embedding). The CLI is src/main.ts,
// the local cluster launcher src/cluster.ts.
export type { LoadOptions, LoadReport } from "./bench-load";
export { LOAD_LIMITS, runLoad } from "./bench-load";
export type { CliResult } from "./cli";
export { parseCommandLine, USAGE } from "./cli";
export type {
  Endpoint,
  LogLevel,
  NodeConfig,
  NodeConfigInput,
  ParseConfigResult,
  PeerConfig,
  TimingConfig,
} from "./config";
export {
  DEFAULT_SNAPSHOT_ENTRIES,
  formatEndpoint,
  LOG_LEVELS,
  parseEndpoint,
  parseNodeConfig,
} from "./config";
export type { KvCommand, KvEntry, KvResult, KvStateMachine } from "./kv-state-machine";
export { createKvStateMachine } from "./kv-state-machine";
export type { AppLogger } from "./logger";
export { createAppLogger } from "./logger";
export type { RunningNode, StartNodeOptions } from "./node";
export { startNode } from "./node";
