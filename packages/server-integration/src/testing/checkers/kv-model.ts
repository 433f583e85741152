import type { HistoryEvent } from "./history";
import { pairHistory } from "./history";
import { HistoryError } from "./history-error";
import type { Model, Operation, StepResult } from "./model";

/** A register value. `null` means the key is absent (never written). */
export type KvValue = string | number | null;

/** The input of one KV operation on one key. `cas` sets `value` only if the register equals `expected`. */
export type KvInput =
  | { readonly f: "put"; readonly value: KvValue }
  | { readonly f: "get" }
  | { readonly f: "cas"; readonly expected: KvValue; readonly value: KvValue };

/** The observed result of one KV operation; `swapped: false` means the compare failed. */
export type KvOutput =
  | { readonly f: "put" }
  | { readonly f: "get"; readonly value: KvValue }
  | { readonly f: "cas"; readonly swapped: boolean };

function describeValue(value: KvValue): string {
  return value === null ? "nil" : JSON.stringify(value);
}

/**
 * The built-in model: one register per key, initially `null`, with put, get and compare-and-set.
 * An indeterminate `cas` applies its effect exactly when the compare holds, like the real one.
 */
export const kvRegisterModel: Model<KvValue, KvInput, KvOutput> = {
  init(): KvValue {
    return null;
  },
  step(state: KvValue, input: KvInput, output: KvOutput | undefined): StepResult<KvValue> {
    switch (input.f) {
      case "put":
        return [true, input.value];
      case "get":
        return [output === undefined || (output.f === "get" && output.value === state), state];
      case "cas": {
        const matches = state === input.expected;
        if (output === undefined) return [true, matches ? input.value : state];
        const swapped = output.f === "cas" && output.swapped;
        return [swapped === matches, matches ? input.value : state];
      }
    }
  },
  equal(a: KvValue, b: KvValue): boolean {
    return a === b;
  },
  hash(state: KvValue): string {
    return state === null ? "null" : `${typeof state}:${state}`;
  },
  isReadOnly(input: KvInput): boolean {
    return input.f === "get";
  },
  describeOperation(input: KvInput, output: KvOutput | undefined): string {
    const result = output === undefined ? " -> ?" : "";
    switch (input.f) {
      case "put":
        return `put(${describeValue(input.value)})${result}`;
      case "get":
        return output?.f === "get" ? `get() -> ${describeValue(output.value)}` : `get()${result}`;
      case "cas": {
        const shown =
          output?.f === "cas" ? ` -> ${output.swapped ? "swapped" : "not swapped"}` : "";
        return `cas(${describeValue(input.expected)}, ${describeValue(input.value)})${shown}${result}`;
      }
    }
  },
  describeState(state: KvValue): string {
    return describeValue(state);
  },
};

function isKvValue(value: unknown): value is KvValue {
  return (
    value === null ||
    typeof value === "string" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

function badOperation(index: number, message: string): HistoryError {
  return new HistoryError("BAD_OPERATION", `event ${index}: ${message}`, index);
}

function kvValue(value: unknown, index: number, what: string): KvValue {
  // A missing value is read as "absent", the way a client reports a get of a missing key.
  if (value === undefined) return null;
  if (!isKvValue(value)) throw badOperation(index, `${what} is not a string, number or null`);
  return value;
}

/**
 * Converts a Jepsen-style KV history into checker operations. Conventions, per `f`:
 * - `put`: `invoke` value = the value written.
 * - `get`: `ok` value = the value read (`null` or absent = key absent).
 * - `cas`: `invoke` value = `[expected, new]`; `ok` means swapped. A `fail` means "not applied"
 *   and, like every `fail`, is dropped (Jepsen `fail` also covers "never reached the leader", so
 *   it is no evidence about the register).
 * - `info` (or no completion): indeterminate, `return = +Infinity`.
 *
 * `id` of each operation is the index of its `invoke` event.
 *
 * @throws {HistoryError} `BAD_OPERATION` for an unknown `f`, a missing `key` or a malformed value,
 *   plus every code of {@link pairHistory}.
 */
export function kvOperationsFromHistory(
  events: readonly HistoryEvent[],
): Operation<KvInput, KvOutput>[] {
  const operations: Operation<KvInput, KvOutput>[] = [];
  for (const op of pairHistory(events)) {
    if (op.key === undefined) throw badOperation(op.index, "a KV operation needs a key");
    const input = kvInput(op.f, op.input, op.index);
    if (op.status === "fail") continue;
    const output = op.status === "info" ? undefined : kvOutput(input, op.output, op.index);
    operations.push({
      id: op.index,
      process: op.process,
      key: op.key,
      input,
      output,
      call: op.call,
      return: op.return,
    });
  }
  return operations;
}

function kvInput(f: string, value: unknown, index: number): KvInput {
  switch (f) {
    case "put":
      return { f: "put", value: kvValue(value, index, "put value") };
    case "get":
      return { f: "get" };
    case "cas": {
      if (!Array.isArray(value) || value.length !== 2) {
        throw badOperation(index, "cas value must be [expected, new]");
      }
      return {
        f: "cas",
        expected: kvValue(value[0], index, "cas expected"),
        value: kvValue(value[1], index, "cas new value"),
      };
    }
    default:
      throw badOperation(index, `unknown KV function ${JSON.stringify(f)}`);
  }
}

function kvOutput(input: KvInput, value: unknown, index: number): KvOutput {
  switch (input.f) {
    case "put":
      return { f: "put" };
    case "get":
      return { f: "get", value: kvValue(value, index, "get result") };
    case "cas":
      return { f: "cas", swapped: true };
  }
}
