import { HistoryError } from "./history-error";

/** Identifies the client (Jepsen's "process") that issued an operation. */
export type ProcessId = string | number;

/**
 * The four Jepsen event types. `invoke` opens an operation; `ok` says it took effect; `fail` says
 * it certainly did not; `info` says it may or may not have taken effect (indeterminate: a timeout,
 * a lost connection, a crashed client).
 */
export type EventType = "invoke" | "ok" | "fail" | "info";

/**
 * One event of a recorded history, in the Jepsen style. An operation is an `invoke` followed by
 * exactly one completion (`ok`, `fail` or `info`) from the same `process`. `value` carries the
 * input on `invoke` and the result on `ok`; its shape is fixed by the workload (see
 * {@link kvOperationsFromHistory} and {@link checkQueue}). `time` is any monotone clock (virtual
 * or real) in any unit; only the order of times matters.
 */
export interface HistoryEvent {
  readonly process: ProcessId;
  readonly type: EventType;
  readonly f: string;
  readonly key?: string;
  readonly value?: unknown;
  readonly time: number;
}

/** How a paired operation ended. An `invoke` never completed counts as `info`. */
export type OperationStatus = "ok" | "fail" | "info";

/**
 * An `invoke` joined with its completion. `call` and `return` are the two event times; `return` is
 * `+Infinity` when the status is `info`, because an indeterminate operation may take effect at any
 * later time. `input` is the `invoke` value, `output` the completion value (`undefined` for `info`).
 */
export interface PairedOperation {
  /** Position of the `invoke` event in the input array; a stable identifier for reports. */
  readonly index: number;
  readonly process: ProcessId;
  readonly f: string;
  readonly key: string | undefined;
  readonly input: unknown;
  readonly output: unknown;
  readonly status: OperationStatus;
  readonly call: number;
  readonly return: number;
}

interface OpenInvoke {
  readonly index: number;
  readonly event: HistoryEvent;
}

/**
 * Joins each `invoke` with its completion from the same process. Operations still open at the end
 * of the history become `info` (a client that never heard back cannot know the outcome). The result
 * is ordered by `invoke` position.
 *
 * @throws {HistoryError} `DOUBLE_INVOKE`, `UNMATCHED_COMPLETION`, `MISMATCHED_COMPLETION` or
 *   `BAD_TIME` for a malformed history; the input is never modified.
 */
export function pairHistory(events: readonly HistoryEvent[]): PairedOperation[] {
  const open = new Map<ProcessId, OpenInvoke>();
  const paired: PairedOperation[] = [];
  for (let index = 0; index < events.length; index++) {
    const event = events[index] as HistoryEvent;
    if (typeof event.time !== "number" || !Number.isFinite(event.time)) {
      throw new HistoryError("BAD_TIME", `event ${index} has a non-finite time`, index);
    }
    const pending = open.get(event.process);
    if (event.type === "invoke") {
      if (pending !== undefined) {
        throw new HistoryError(
          "DOUBLE_INVOKE",
          `process ${String(event.process)} invokes at event ${index} while event ${pending.index} is open`,
          index,
        );
      }
      open.set(event.process, { index, event });
      continue;
    }
    if (pending === undefined) {
      throw new HistoryError(
        "UNMATCHED_COMPLETION",
        `event ${index} (${event.type}) completes nothing for process ${String(event.process)}`,
        index,
      );
    }
    const invoke = pending.event;
    if (invoke.f !== event.f || (event.key !== undefined && event.key !== invoke.key)) {
      throw new HistoryError(
        "MISMATCHED_COMPLETION",
        `event ${index} completes ${event.f} but event ${pending.index} invoked ${invoke.f}`,
        index,
      );
    }
    if (event.time < invoke.time) {
      throw new HistoryError("BAD_TIME", `event ${index} completes before its invoke`, index);
    }
    open.delete(event.process);
    paired.push(toPaired(pending.index, invoke, event));
  }
  for (const pending of open.values()) {
    paired.push(toPaired(pending.index, pending.event, undefined));
  }
  paired.sort((a, b) => a.index - b.index);
  return paired;
}

function toPaired(
  index: number,
  invoke: HistoryEvent,
  completion: HistoryEvent | undefined,
): PairedOperation {
  const status: OperationStatus = completion === undefined ? "info" : narrowStatus(completion.type);
  return {
    index,
    process: invoke.process,
    f: invoke.f,
    key: invoke.key,
    input: invoke.value,
    output: status === "info" ? undefined : completion?.value,
    status,
    call: invoke.time,
    return: status === "info" ? Number.POSITIVE_INFINITY : (completion?.time ?? invoke.time),
  };
}

function narrowStatus(type: EventType): OperationStatus {
  // Only completions reach here: the caller has already handled "invoke".
  return type === "invoke" ? "info" : type;
}
