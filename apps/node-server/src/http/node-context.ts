import type { RaftGroup, RaftServer } from "@raft/server-integration";
import type { NodeConfig } from "../config";
import type { NodeFabric } from "../fabric/node-fabric";
import type { KvCommand, KvResult, KvStateMachine } from "../kv-state-machine";
import type { AppLogger } from "../logger";
import type { ClientListener } from "../nats/client-listener";

/** The name of the replicated key-value group every node hosts. */
export const KV_GROUP = "kv";

/** Everything the HTTP endpoints (and the KV service) read from the running node. */
export interface NodeContext {
  readonly config: NodeConfig;
  /** The app's version (package.json). */
  readonly version: string;
  /** `performance.now()` at start, for uptime. */
  readonly startedAtMs: number;
  /** Wall-clock start time, for `/varz`. */
  readonly startedAt: string;
  readonly server: RaftServer;
  /** The routes or the NATS fabric. */
  readonly fabric: NodeFabric;
  readonly kv: RaftGroup<KvCommand, KvResult>;
  readonly store: KvStateMachine;
  /** The NATS client listener (for its address and counters). */
  readonly nats: ClientListener;
  readonly logger: AppLogger;
}
