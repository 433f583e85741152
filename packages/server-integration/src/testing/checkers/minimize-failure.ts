import type { Model, Operation } from "./model";
import type { SearchBudget } from "./wgl-search";
import { searchLinearization } from "./wgl-search";

/** Limits of the shrinking phase; every candidate sub-history costs one or two bounded searches. */
export interface ShrinkOptions {
  /** Maximum number of candidate searches. Default 2,000. */
  readonly maxChecks?: number;
  /** Step budget of each candidate search. Default 200,000. */
  readonly maxStepsPerCheck?: number;
}

/**
 * Why a partition has no linearization.
 * - `real-time`: some sequential order explains every result, but none respects real time (stale
 *   read, lost update, flip-flopping reads).
 * - `value`: no order at all explains the results (a read of a value never written, a
 *   compare-and-set that matched a value the register never held).
 * - `undetermined`: the budget did not allow telling the two apart.
 */
export type FailureKind = "real-time" | "value" | "undetermined";

/** A failing sub-history, its kind, and whether it was shown minimal. */
export interface MinimizedFailure<TInput, TOutput> {
  readonly operations: readonly Operation<TInput, TOutput>[];
  /** The failing prefix (by call time) that shrinking started from. */
  readonly prefix: readonly Operation<TInput, TOutput>[];
  readonly kind: FailureKind;
  /**
   * True when shrinking kept every result explainable by some order (see
   * {@link minimizeFailure}); then a removal that leaves a result unexplained was refused.
   */
  readonly supportPreserving: boolean;
  /**
   * True when every single-operation removal was checked: it makes the history linearizable, or
   * (only when `supportPreserving`) it leaves a result that no order explains.
   */
  readonly minimal: boolean;
  readonly checks: number;
}

const DEFAULT_MAX_CHECKS = 2_000;
/** Step budget of each shrink candidate when {@link ShrinkOptions.maxStepsPerCheck} is not given. */
export const DEFAULT_MAX_STEPS_PER_CHECK: number = 200_000;

type Verdict = "linearizable" | "violation" | "exhausted";

/**
 * Shrinks a non-linearizable partition history. A binary search over prefixes (by call time)
 * finds a failing prefix whose one-shorter prefix is not known to fail; then a greedy
 * delta-debugging pass drops chunks of halving size, and single operations until a fixed point.
 *
 * When the failing prefix can be classified within budget as a `real-time` failure, shrinking
 * preserves support: a candidate must still have results that some order explains. Without that
 * rule a stale read `put 1; put 2; get -> 1` would shrink to the lone `get -> 1` (a read of a value
 * never written), which is 1-minimal but hides the stale read. Otherwise shrinking is strict
 * (any failing candidate is kept) and the final history is classified instead.
 *
 * Linearizability is not monotone in sub-histories, so the prefix found is the first failing one
 * the binary search meets, not necessarily the globally shortest. `ops` must be sorted by call
 * time and known to be non-linearizable.
 */
export function minimizeFailure<TState, TInput, TOutput>(
  model: Model<TState, TInput, TOutput>,
  ops: readonly Operation<TInput, TOutput>[],
  options: ShrinkOptions,
  baseBudget: SearchBudget,
): MinimizedFailure<TInput, TOutput> {
  const maxChecks = options.maxChecks ?? DEFAULT_MAX_CHECKS;
  const budget: SearchBudget = {
    ...baseBudget,
    maxSteps: options.maxStepsPerCheck ?? DEFAULT_MAX_STEPS_PER_CHECK,
  };
  let checks = 0;
  const mayCheck = (): boolean => checks < maxChecks;
  const verdict = (candidate: readonly Operation<TInput, TOutput>[]): Verdict => {
    checks++;
    return searchLinearization(model, candidate, budget, false).kind;
  };
  // Order hint for the real-time-free searches: with every operation concurrent the search tries
  // them in array order, so putting the unplaceable operations first and the rest in the order of
  // a near-linearization lets it place each unplaceable one right where its state occurs, instead
  // of exploring every interleaving first.
  const rank = new Map<Operation<TInput, TOutput>, number>();
  const classify = (candidate: readonly Operation<TInput, TOutput>[]): FailureKind => {
    if (!mayCheck()) return "undetermined";
    if (hasSequentialWitness(model, candidate, rank)) return "real-time";
    const orderless = verdict(withoutRealTime(candidate, rank));
    return orderless === "linearizable"
      ? "real-time"
      : orderless === "violation"
        ? "value"
        : "undetermined";
  };

  let lo = 0;
  let hi = ops.length;
  while (hi - lo > 1 && mayCheck()) {
    const mid = (lo + hi) >>> 1;
    if (verdict(ops.slice(0, mid)) === "violation") hi = mid;
    else lo = mid;
  }
  const prefix = ops.slice(0, hi);
  checks++;
  const hint = searchLinearization(model, prefix, budget, true);
  if (hint.kind === "violation") {
    for (const [i, op] of hint.longest.entries()) rank.set(op, i);
  }
  const supportPreserving = classify(prefix) === "real-time";

  // A candidate is kept when it still fails, and (preserving support) some order still explains
  // its results. Answers: "keep", "reject" (definitely not) or "unsure" (a budget ran out).
  const judge = (candidate: readonly Operation<TInput, TOutput>[]): Judgement => {
    if (candidate.length === 0) return "reject";
    const plain = verdict(candidate);
    if (plain !== "violation") return plain === "linearizable" ? "reject" : "unsure";
    if (!supportPreserving) return "keep";
    const kind = classify(candidate);
    return kind === "real-time" ? "keep" : kind === "value" ? "reject" : "unsure";
  };

  let current = prefix;
  for (let chunk = current.length >>> 1; chunk > 1 && mayCheck(); chunk >>>= 1) {
    current = dropChunks(current, chunk, mayCheck, judge).kept;
  }
  let minimal = false;
  while (mayCheck()) {
    const pass = dropChunks(current, 1, mayCheck, judge);
    current = pass.kept;
    if (!pass.complete) break;
    if (!pass.dropped) {
      minimal = pass.allDefinite;
      break;
    }
  }
  const kind = supportPreserving ? "real-time" : classify(current);
  return { operations: current, prefix, kind, supportPreserving, minimal, checks };
}
type Judgement = "keep" | "reject" | "unsure";

// Above this many operations the quadratic witness construction is skipped (the search remains).
const WITNESS_OPERATIONS_MAX = 2_000;

/**
 * A fast, incomplete test that some sequential order explains every determinate result: start
 * from the ranked operations in rank order and insert each unranked one at the first position
 * where the whole sequence replays through the model. Indeterminate operations are left out
 * (they may be dropped). True is definite; false only means "not found this way".
 */
function hasSequentialWitness<TState, TInput, TOutput>(
  model: Model<TState, TInput, TOutput>,
  candidate: readonly Operation<TInput, TOutput>[],
  rank: ReadonlyMap<Operation<TInput, TOutput>, number>,
): boolean {
  const determinate = candidate.filter((op) => op.return !== Number.POSITIVE_INFINITY);
  if (determinate.length > WITNESS_OPERATIONS_MAX) return false;
  const order = determinate
    .filter((op) => rank.has(op))
    .sort((a, b) => (rank.get(a) as number) - (rank.get(b) as number));
  for (const op of determinate) {
    if (rank.has(op)) continue;
    let placed = false;
    for (let at = 0; at <= order.length && !placed; at++) {
      const trial = order.slice(0, at).concat([op], order.slice(at));
      if (replays(model, trial)) {
        order.splice(at, 0, op);
        placed = true;
      }
    }
    if (!placed) return false;
  }
  return replays(model, order);
}

function replays<TState, TInput, TOutput>(
  model: Model<TState, TInput, TOutput>,
  order: readonly Operation<TInput, TOutput>[],
): boolean {
  let state = model.init();
  for (const op of order) {
    const [ok, next] = model.step(state, op.input, op.output);
    if (!ok) return false;
    state = next;
  }
  return true;
}

/**
 * The same operations with every real-time constraint removed (all pairwise concurrent), ordered
 * by `rank` (unranked first, stable).
 */
function withoutRealTime<TInput, TOutput>(
  ops: readonly Operation<TInput, TOutput>[],
  rank: ReadonlyMap<Operation<TInput, TOutput>, number>,
): Operation<TInput, TOutput>[] {
  const ordered = ops.slice().sort((a, b) => (rank.get(a) ?? -1) - (rank.get(b) ?? -1));
  return ordered.map((op) => ({
    ...op,
    call: 0,
    return: op.return === Number.POSITIVE_INFINITY ? op.return : 1,
  }));
}

interface PassResult<TInput, TOutput> {
  readonly kept: Operation<TInput, TOutput>[];
  readonly dropped: boolean;
  readonly complete: boolean;
  readonly allDefinite: boolean;
}

function dropChunks<TInput, TOutput>(
  start: readonly Operation<TInput, TOutput>[],
  chunk: number,
  mayCheck: () => boolean,
  judge: (candidate: readonly Operation<TInput, TOutput>[]) => Judgement,
): PassResult<TInput, TOutput> {
  let kept = start.slice();
  let dropped = false;
  let allDefinite = true;
  let i = 0;
  while (i < kept.length) {
    if (!mayCheck()) return { kept, dropped, complete: false, allDefinite: false };
    const candidate = kept.slice(0, i).concat(kept.slice(i + chunk));
    const judgement = judge(candidate);
    if (judgement === "keep") {
      kept = candidate;
      dropped = true;
    } else {
      if (judgement === "unsure") allDefinite = false;
      i += chunk;
    }
  }
  return { kept, dropped, complete: true, allDefinite };
}
