export type {
  EventType,
  HistoryEvent,
  OperationStatus,
  PairedOperation,
  ProcessId,
} from "./history";
export { pairHistory } from "./history";
export type { OperationSpec } from "./history-builder";
export { buildHistory } from "./history-builder";
export type { HistoryErrorCode } from "./history-error";
export { HISTORY_ERROR_CODES, HistoryError } from "./history-error";
export type { PlannedKvOperation } from "./kv-generator";
export { generateKvHistory } from "./kv-generator";
export { checkKvHistory } from "./kv-linearizability";
export type { KvInput, KvOutput, KvValue } from "./kv-model";
export { kvOperationsFromHistory, kvRegisterModel } from "./kv-model";
export type {
  LinearizabilityOptions,
  LinearizabilityResult,
  LinearizableResult,
  NotLinearizableResult,
  UnknownResult,
} from "./linearizability";
export { checkLinearizability } from "./linearizability";
export type { FailureKind, MinimizedFailure, ShrinkOptions } from "./minimize-failure";
export type { Model, Operation, StepResult } from "./model";
export type {
  DivergentReplicas,
  DivergentValue,
  LostValues,
  NodeAnalysis,
  OrderViolation,
  QueueCheckInput,
  QueueCheckOptions,
  QueueRead,
  QueueReport,
} from "./queue-checker";
export { checkQueue } from "./queue-checker";
