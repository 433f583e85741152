import type { EventType, HistoryEvent, ProcessId } from "./history";

/**
 * One operation to lay out as events: invoke at `call`; completion of type `type` at `return`
 * (no completion event at all when `return` is undefined, which reads as indeterminate).
 */
export interface OperationSpec {
  readonly process: ProcessId;
  readonly f: string;
  readonly key?: string;
  readonly call: number;
  readonly return?: number;
  readonly type?: Exclude<EventType, "invoke">;
  readonly input?: unknown;
  readonly output?: unknown;
}

/**
 * Lays operations out as a Jepsen event list sorted by time. At equal times events keep the order
 * of the specs (each invoke before its own completion), so list one process's operations in the
 * order it ran them. Handy for hand-written histories in tests; the result is a fresh array.
 */
export function buildHistory(specs: readonly OperationSpec[]): HistoryEvent[] {
  const timed: { time: number; order: number; event: HistoryEvent }[] = [];
  specs.forEach((spec, i) => {
    const base = {
      process: spec.process,
      f: spec.f,
      ...(spec.key === undefined ? {} : { key: spec.key }),
    };
    timed.push({
      time: spec.call,
      order: 2 * i,
      event: {
        ...base,
        type: "invoke",
        time: spec.call,
        ...(spec.input === undefined ? {} : { value: spec.input }),
      },
    });
    if (spec.return !== undefined) {
      timed.push({
        time: spec.return,
        order: 2 * i + 1,
        event: {
          ...base,
          type: spec.type ?? "ok",
          time: spec.return,
          ...(spec.output === undefined ? {} : { value: spec.output }),
        },
      });
    }
  });
  timed.sort((a, b) => a.time - b.time || a.order - b.order);
  return timed.map((t) => t.event);
}
