import { explainFailure } from "./explain-failure";
import type { FailureKind, ShrinkOptions } from "./minimize-failure";
import { DEFAULT_MAX_STEPS_PER_CHECK, minimizeFailure } from "./minimize-failure";
import type { Model, Operation } from "./model";
import type { Deadline, SearchBudget } from "./wgl-search";
import { searchLinearization } from "./wgl-search";

/**
 * Budgets of {@link checkLinearizability}. The defaults are deterministic (step counts only); a
 * wall-clock limit applies only when the caller injects a clock.
 */
export interface LinearizabilityOptions {
  /** Search steps allowed per key before that key is "unknown". Default 2,000,000. */
  readonly maxStepsPerKey?: number;
  /** Memo-cache bytes allowed per key before that key is "unknown". Default 256 MiB. */
  readonly maxCacheBytesPerKey?: number;
  /** Optional wall-clock budget for the whole check, read through the injected `now()` (ms). */
  readonly clock?: { readonly now: () => number; readonly budgetMs: number };
  /** Limits of shrinking a failure to a minimal sub-history; `false` skips shrinking. */
  readonly shrink?: ShrinkOptions | false;
}

/** Every key's history has a linearization. */
export interface LinearizableResult {
  readonly valid: true;
  readonly keys: number;
  readonly operations: number;
  readonly steps: number;
}

/**
 * Some key has no linearization. `key` is the first such key in sorted order; `minimalHistory` a
 * failing sub-history of it, sorted by call time (see `MinimizedFailure` for what `minimal`
 * guarantees and {@link FailureKind} for `kind`); `invalidKeys` every failing key, sorted.
 */
export interface NotLinearizableResult<TInput, TOutput> {
  readonly valid: false;
  readonly key: string;
  readonly minimalHistory: readonly Operation<TInput, TOutput>[];
  readonly minimal: boolean;
  /** Whether shrinking kept every result explainable (see {@link MinimizedFailure}). */
  readonly supportPreserving: boolean;
  readonly kind: FailureKind;
  /** Length of the failing prefix (by call time) of the key's history that shrinking started from. */
  readonly failingPrefixLength: number;
  readonly explanation: string;
  readonly invalidKeys: readonly string[];
  readonly steps: number;
}

/** No key failed, but the search ran out of budget on `unknownKeys` (sorted). */
export interface UnknownResult {
  readonly valid: "unknown";
  readonly reason: string;
  readonly unknownKeys: readonly string[];
  readonly steps: number;
}

/** The verdict of {@link checkLinearizability}. A definite failure wins over "unknown". */
export type LinearizabilityResult<TInput, TOutput> =
  | LinearizableResult
  | NotLinearizableResult<TInput, TOutput>
  | UnknownResult;

const DEFAULT_MAX_STEPS_PER_KEY = 2_000_000;
const DEFAULT_MAX_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * Checks that `operations` is linearizable with respect to `model`, one key at a time
 * (P-compositionality: a history of independent objects is linearizable iff each object's
 * sub-history is). See {@link searchLinearization} for the search and {@link Operation} for the
 * input contract. Never throws for a well-typed input; `operations` is not modified.
 */
export function checkLinearizability<TState, TInput, TOutput>(
  model: Model<TState, TInput, TOutput>,
  operations: readonly Operation<TInput, TOutput>[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult<TInput, TOutput> {
  const deadline: Deadline | undefined =
    options.clock === undefined
      ? undefined
      : { now: options.clock.now, atMs: options.clock.now() + options.clock.budgetMs };
  const budget: SearchBudget = {
    maxSteps: options.maxStepsPerKey ?? DEFAULT_MAX_STEPS_PER_KEY,
    maxCacheBytes: options.maxCacheBytesPerKey ?? DEFAULT_MAX_CACHE_BYTES,
    ...(deadline === undefined ? {} : { deadline }),
  };
  const partitions = partitionByKey(operations);
  const keys = [...partitions.keys()].sort();
  const invalidKeys: string[] = [];
  const unknown: { key: string; reason: string }[] = [];
  let steps = 0;
  for (const key of keys) {
    const ops = partitions.get(key) as Operation<TInput, TOutput>[];
    const outcome = searchLinearization(model, ops, budget, false);
    steps += outcome.steps;
    if (outcome.kind === "violation") invalidKeys.push(key);
    if (outcome.kind === "exhausted") unknown.push({ key, reason: outcome.reason });
  }
  const failedKey = invalidKeys[0];
  if (failedKey !== undefined) {
    const ops = partitions.get(failedKey) as Operation<TInput, TOutput>[];
    return describeViolation(model, failedKey, ops, invalidKeys, steps, options, budget);
  }
  if (unknown.length > 0) {
    const first = unknown[0] as { key: string; reason: string };
    return {
      valid: "unknown",
      reason: `${unknown.length} of ${keys.length} keys undecided; key ${JSON.stringify(first.key)}: ${first.reason}`,
      unknownKeys: unknown.map((u) => u.key),
      steps,
    };
  }
  return { valid: true, keys: keys.length, operations: operations.length, steps };
}

function partitionByKey<TInput, TOutput>(
  operations: readonly Operation<TInput, TOutput>[],
): Map<string, Operation<TInput, TOutput>[]> {
  const partitions = new Map<string, Operation<TInput, TOutput>[]>();
  for (const op of operations) {
    const list = partitions.get(op.key);
    if (list === undefined) partitions.set(op.key, [op]);
    else list.push(op);
  }
  // Call order is what the prefix search in shrinking relies on; ties broken by id for determinism.
  for (const list of partitions.values()) {
    list.sort((a, b) => a.call - b.call || a.id - b.id);
  }
  return partitions;
}

function describeViolation<TState, TInput, TOutput>(
  model: Model<TState, TInput, TOutput>,
  key: string,
  ops: readonly Operation<TInput, TOutput>[],
  invalidKeys: readonly string[],
  steps: number,
  options: LinearizabilityOptions,
  budget: SearchBudget,
): NotLinearizableResult<TInput, TOutput> {
  const shrunk =
    options.shrink === false
      ? {
          operations: ops,
          prefix: ops,
          minimal: false,
          supportPreserving: false,
          kind: "undetermined" as const,
        }
      : minimizeFailure(model, ops, options.shrink ?? {}, budget);
  // The replays only gather longest partial linearizations for the explanation. They get the
  // larger of the two step budgets and no deadline, so they repeat searches that already failed.
  const replayBudget: SearchBudget = {
    maxSteps: Math.max(
      budget.maxSteps,
      options.shrink === false
        ? 0
        : (options.shrink?.maxStepsPerCheck ?? DEFAULT_MAX_STEPS_PER_CHECK),
    ),
    maxCacheBytes: budget.maxCacheBytes,
  };
  const replay = searchLinearization(model, shrunk.operations, replayBudget, true);
  const context =
    shrunk.prefix.length > shrunk.operations.length
      ? searchLinearization(model, shrunk.prefix, replayBudget, true)
      : undefined;
  const explanation = explainFailure({
    model,
    key,
    operations: shrunk.operations,
    minimal: shrunk.minimal,
    supportPreserving: shrunk.supportPreserving,
    kind: shrunk.kind,
    longest: replay.kind === "violation" ? replay.longest : [],
    stateAfterLongest: replay.kind === "violation" ? replay.stateAfterLongest : model.init(),
    ...(context?.kind === "violation"
      ? {
          prefix: {
            length: shrunk.prefix.length,
            longest: context.longest,
            stateAfterLongest: context.stateAfterLongest,
          },
        }
      : {}),
  });
  return {
    valid: false,
    key,
    minimalHistory: shrunk.operations,
    minimal: shrunk.minimal,
    supportPreserving: shrunk.supportPreserving,
    kind: shrunk.kind,
    failingPrefixLength: shrunk.prefix.length,
    explanation,
    invalidKeys,
    steps,
  };
}
