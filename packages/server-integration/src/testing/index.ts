// The `@raft/server-integration/testing` entry: the history checkers and the deterministic
// full-stack simulator, listed by name.

// --- History checkers ---------------------------------------------------------------------------
export type {
  DivergentReplicas,
  DivergentValue,
  EventType,
  FailureKind,
  HistoryErrorCode,
  HistoryEvent,
  KvInput,
  KvOutput,
  KvValue,
  LinearizabilityOptions,
  LinearizabilityResult,
  LinearizableResult,
  LostValues,
  MinimizedFailure,
  Model,
  NodeAnalysis,
  NotLinearizableResult,
  Operation,
  OperationSpec,
  OperationStatus,
  OrderViolation,
  PairedOperation,
  PlannedKvOperation,
  ProcessId,
  QueueCheckInput,
  QueueCheckOptions,
  QueueRead,
  QueueReport,
  ShrinkOptions,
  StepResult,
  UnknownResult,
} from "./checkers/index";
export {
  buildHistory,
  checkKvHistory,
  checkLinearizability,
  checkQueue,
  generateKvHistory,
  HISTORY_ERROR_CODES,
  HistoryError,
  kvOperationsFromHistory,
  kvRegisterModel,
  pairHistory,
} from "./checkers/index";
// --- A real group in one process ------------------------------------------------------------------
export type {
  LocalGroup,
  LocalGroupOptions,
  LocalMember,
} from "./local-group";
export { startLocalGroup } from "./local-group";
// --- Simulator ----------------------------------------------------------------------------------
export type {
  AnySimWorkload,
  FaultKind,
  KvCommand,
  KvResult,
  KvWorkloadOptions,
  QueueCommand,
  QueueWorkloadOptions,
  SimCheckContext,
  SimFaultOptions,
  SimOperation,
  SimOperationCounts,
  SimOutcome,
  SimReplica,
  SimulationOptions,
  SimulationResult,
  SimViolation,
  SimWorkload,
} from "./simulator/index";
export {
  KvStateMachine,
  kvOperations,
  kvWorkload,
  QueueStateMachine,
  queueWorkload,
  replayCommand,
  SIM_TIMING,
  SimRandom,
  simulate,
} from "./simulator/index";
