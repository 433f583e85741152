import type { FailureKind } from "./minimize-failure";
import type { Model, Operation } from "./model";

function describeOp<TState, TInput, TOutput>(
  model: Model<TState, TInput, TOutput>,
  op: Operation<TInput, TOutput>,
): string {
  return model.describeOperation?.(op.input, op.output) ?? JSON.stringify([op.input, op.output]);
}

function describeState<TState, TInput, TOutput>(
  model: Model<TState, TInput, TOutput>,
  state: TState,
): string {
  return model.describeState?.(state) ?? JSON.stringify(state);
}

function showTime(time: number): string {
  return time === Number.POSITIVE_INFINITY ? "∞" : String(time);
}

/** Input of {@link explainFailure}. */
export interface FailureFacts<TState, TInput, TOutput> {
  readonly model: Model<TState, TInput, TOutput>;
  readonly key: string;
  readonly operations: readonly Operation<TInput, TOutput>[];
  readonly minimal: boolean;
  readonly supportPreserving: boolean;
  readonly kind: FailureKind;
  readonly longest: readonly Operation<TInput, TOutput>[];
  readonly stateAfterLongest: TState;
  /** The longest partial linearization of the failing prefix, as context for a shrunk history. */
  readonly prefix?: {
    readonly length: number;
    readonly longest: readonly Operation<TInput, TOutput>[];
    readonly stateAfterLongest: TState;
  };
}

// How many operations of the failing prefix's partial linearization the context shows.
const CONTEXT_OPERATIONS = 8;

/**
 * Renders a failing sub-history for humans: the operations with their intervals, the longest
 * partial linearization the search reached, and why each operation that could come next is
 * refused. Pure text; the structured data is in the result itself.
 */
export function explainFailure<TState, TInput, TOutput>(
  facts: FailureFacts<TState, TInput, TOutput>,
): string {
  const { model, operations, longest } = facts;
  const lines: string[] = [];
  const quality = !facts.minimal
    ? "not shown minimal within the shrink budget"
    : facts.supportPreserving
      ? "minimal: dropping any one makes the rest linearizable or leaves a result unexplained"
      : "minimal: dropping any one of them makes the rest linearizable";
  const cause =
    facts.kind === "real-time"
      ? "some order explains every result, but none respects real time"
      : facts.kind === "value"
        ? "no order of these operations explains their results"
        : "cause not classified";
  lines.push(
    `key ${JSON.stringify(facts.key)}: no linearization of these ${operations.length} operations (${quality}); ${cause}`,
  );
  for (const op of operations) {
    lines.push(
      `  #${op.id} process ${String(op.process)} [${showTime(op.call)}, ${showTime(op.return)}] ${describeOp(model, op)}`,
    );
  }
  const order = longest.map((op) => `#${op.id} ${describeOp(model, op)}`).join(", ");
  lines.push(
    `longest partial linearization (${longest.length} of ${operations.length}): ${order === "" ? "(none)" : order}; state then: ${describeState(model, facts.stateAfterLongest)}`,
  );
  const placed = new Set(longest);
  const pending = operations.filter((op) => !placed.has(op));
  // Only operations called before the earliest pending determinate return may come next.
  let horizon = Number.POSITIVE_INFINITY;
  for (const op of pending) {
    if (op.return !== Number.POSITIVE_INFINITY && op.return < horizon) horizon = op.return;
  }
  for (const op of pending) {
    if (op.call > horizon) continue;
    const [ok] = model.step(facts.stateAfterLongest, op.input, op.output);
    const why = ok
      ? "the model accepts it, but no continuation after it succeeds"
      : `the model refuses it in state ${describeState(model, facts.stateAfterLongest)}`;
    lines.push(`  next candidate #${op.id} ${describeOp(model, op)}: ${why}`);
  }
  if (facts.prefix !== undefined) {
    const { length, longest: prefixLongest, stateAfterLongest } = facts.prefix;
    const tail = prefixLongest.slice(-CONTEXT_OPERATIONS);
    const shown = tail.map((op) => `#${op.id} ${describeOp(model, op)}`).join(", ");
    lines.push(
      `context: in the failing prefix of ${length} operations the search linearized ${prefixLongest.length}, ending with ${shown === "" ? "(none)" : shown}; state then: ${describeState(model, stateAfterLongest)}`,
    );
  }
  return lines.join("\n");
}
