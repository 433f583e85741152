export type { FaultKind, SimFaultOptions } from "./faults";
export type { SimViolation } from "./invariants";
export type { KvCommand, KvResult, KvWorkloadOptions } from "./kv-workload";
export { KvStateMachine, kvOperations, kvWorkload } from "./kv-workload";
export type { QueueCommand, QueueWorkloadOptions } from "./queue-workload";
export { QueueStateMachine, queueWorkload } from "./queue-workload";
export { SimRandom } from "./sim-random";
export type { SimOperationCounts, SimulationOptions, SimulationResult } from "./simulate";
export { replayCommand, SIM_TIMING, simulate } from "./simulate";
export type {
  AnySimWorkload,
  SimCheckContext,
  SimOperation,
  SimOutcome,
  SimReplica,
  SimWorkload,
} from "./workload";
