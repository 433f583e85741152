import { LinearizationCache, mix32 } from "./linearization-cache";
import type { Model, Operation } from "./model";

/**
 * Limits of one search. `maxSteps` counts loop iterations (deterministic); `maxCacheBytes` bounds
 * the memo set; `deadline`, when given, is a wall-clock limit read through the injected `now`.
 */
export interface SearchBudget {
  readonly maxSteps: number;
  readonly maxCacheBytes: number;
  readonly deadline?: Deadline;
}

/** A wall-clock limit: stop once `now() >= atMs`. `now` is injected so the checker stays pure. */
export interface Deadline {
  readonly now: () => number;
  readonly atMs: number;
}

/** What one search found. `longest` is filled only when requested (it costs extra copying). */
export type SearchOutcome<TState, TInput, TOutput> =
  | { readonly kind: "linearizable"; readonly steps: number }
  | {
      readonly kind: "violation";
      readonly steps: number;
      readonly longest: readonly Operation<TInput, TOutput>[];
      readonly stateAfterLongest: TState;
    }
  | { readonly kind: "exhausted"; readonly steps: number; readonly reason: string };

// How often (in steps) the wall clock is read: often enough to stop within a millisecond or so,
// rarely enough that reading it costs nothing measurable.
const CLOCK_EVERY_STEPS = 4096;
const END = -1;

/**
 * Decides whether `ops` (one partition) is linearizable with respect to `model`, by the
 * Wing–Gong–Lowe depth-first search as Porcupine implements it: call and return entries sit in one
 * doubly linked list sorted by time; the search linearizes a pending call whose predecessor
 * entries are all calls, removes ("lifts") it from the list and restarts from the head; meeting a
 * return entry means its operation can no longer be placed, so it backtracks. A memo set of
 * (linearized set, state) prunes revisits. The stack is explicit, so depth is bounded only by
 * memory.
 *
 * Indeterminate operations (`return = +Infinity`) get no return entry: they never force a
 * backtrack, and the search succeeds once every determinate operation is linearized, which drops
 * the indeterminate ones still pending (they never took effect). Indeterminate read-only
 * operations are dropped before the search.
 */
export function searchLinearization<TState, TInput, TOutput>(
  model: Model<TState, TInput, TOutput>,
  operations: readonly Operation<TInput, TOutput>[],
  budget: SearchBudget,
  trackLongest: boolean,
): SearchOutcome<TState, TInput, TOutput> {
  const ops = operations.filter(
    (op) => !(op.return === Number.POSITIVE_INFINITY && model.isReadOnly?.(op.input) === true),
  );
  const n = ops.length;
  const determinate = new Uint8Array(n);
  let remaining = 0;
  for (let i = 0; i < n; i++) {
    if ((ops[i] as Operation<TInput, TOutput>).return !== Number.POSITIVE_INFINITY) {
      determinate[i] = 1;
      remaining++;
    }
  }
  const list = buildEntryList(ops, determinate);
  const { next, prev } = list;
  const head = 2 * n;
  const words = Math.max(1, Math.ceil(n / 32));
  const bits = new Uint32Array(words);
  const zobristA = new Uint32Array(n);
  const zobristB = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    zobristA[i] = mix32(2 * i + 0x9e3779b9);
    zobristB[i] = mix32(2 * i + 1 + 0x7f4a7c15);
  }
  let hashA = 0;
  let hashB = 0;
  const cache = new LinearizationCache<TState>(model, words);
  const stackOp = new Int32Array(n);
  const stackState: TState[] = [];
  let depth = 0;
  let state = model.init();
  let longest: number[] = [];
  let stateAfterLongest = state;

  // Removing an operation's entries from the list, and putting them back in reverse order
  // (dancing links), keeps every undo O(1).
  const lift = (i: number): void => {
    unlink(next, prev, i);
    if (determinate[i] === 1) unlink(next, prev, n + i);
  };
  const unlift = (i: number): void => {
    if (determinate[i] === 1) relink(next, prev, n + i);
    relink(next, prev, i);
  };

  let steps = 0;
  let entry = next[head] as number;
  while (remaining > 0) {
    steps++;
    if (steps > budget.maxSteps) {
      return { kind: "exhausted", steps, reason: `step budget of ${budget.maxSteps} exhausted` };
    }
    if (steps % CLOCK_EVERY_STEPS === 0 && budget.deadline !== undefined) {
      if (budget.deadline.now() >= budget.deadline.atMs) {
        return { kind: "exhausted", steps, reason: "wall-clock budget exhausted" };
      }
    }
    if (entry !== END && entry < n) {
      // A call entry: try to linearize this operation now.
      const op = ops[entry] as Operation<TInput, TOutput>;
      const [ok, nextState] = model.step(state, op.input, op.output);
      if (ok) {
        setBit(bits, entry);
        const newA = (hashA ^ (zobristA[entry] as number)) >>> 0;
        const newB = (hashB ^ (zobristB[entry] as number)) >>> 0;
        if (cache.addIfAbsent(bits, newA, newB, nextState)) {
          if (cache.bytes > budget.maxCacheBytes) {
            return {
              kind: "exhausted",
              steps,
              reason: `memo cache exceeded ${budget.maxCacheBytes} bytes`,
            };
          }
          stackOp[depth] = entry;
          stackState[depth] = state;
          depth++;
          hashA = newA;
          hashB = newB;
          state = nextState;
          lift(entry);
          if (determinate[entry] === 1) remaining--;
          if (trackLongest && depth > longest.length) {
            longest = Array.from(stackOp.subarray(0, depth));
            stateAfterLongest = state;
          }
          entry = next[head] as number;
          continue;
        }
        clearBit(bits, entry);
      }
      entry = next[entry] as number;
      continue;
    }
    // A return entry (or, defensively, the end of the list): the operations linearized so far
    // cannot be extended, so undo the last choice and try the next candidate after it.
    if (depth === 0) {
      return {
        kind: "violation",
        steps,
        longest: longest.map((i) => ops[i] as Operation<TInput, TOutput>),
        stateAfterLongest,
      };
    }
    depth--;
    const undone = stackOp[depth] as number;
    state = stackState[depth] as TState;
    clearBit(bits, undone);
    hashA = (hashA ^ (zobristA[undone] as number)) >>> 0;
    hashB = (hashB ^ (zobristB[undone] as number)) >>> 0;
    unlift(undone);
    if (determinate[undone] === 1) remaining++;
    entry = next[undone] as number;
  }
  return { kind: "linearizable", steps };
}

interface EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
}

/**
 * Builds the list: node `i` is the call of operation `i`, node `n + i` its return, node `2n` the
 * head sentinel. Sorted by time; at equal times calls come first, so operations touching at one
 * instant count as concurrent (the recorder could not order them).
 */
function buildEntryList<TInput, TOutput>(
  ops: readonly Operation<TInput, TOutput>[],
  determinate: Uint8Array,
): EntryList {
  const n = ops.length;
  const nodes: number[] = [];
  const time = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const op = ops[i] as Operation<TInput, TOutput>;
    time[i] = op.call;
    nodes.push(i);
    if (determinate[i] === 1) {
      time[n + i] = op.return;
      nodes.push(n + i);
    }
  }
  nodes.sort((a, b) => {
    const dt = (time[a] as number) - (time[b] as number);
    if (dt !== 0) return dt;
    const kindA = a < n ? 0 : 1;
    const kindB = b < n ? 0 : 1;
    return kindA !== kindB ? kindA - kindB : a - b;
  });
  const next = new Int32Array(2 * n + 1).fill(END);
  const prev = new Int32Array(2 * n + 1).fill(END);
  let last = 2 * n;
  for (const node of nodes) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }
  next[last] = END;
  return { next, prev };
}

function unlink(next: Int32Array, prev: Int32Array, node: number): void {
  const before = prev[node] as number;
  const after = next[node] as number;
  next[before] = after;
  if (after !== END) prev[after] = before;
}

function relink(next: Int32Array, prev: Int32Array, node: number): void {
  const before = prev[node] as number;
  const after = next[node] as number;
  next[before] = node;
  if (after !== END) prev[after] = node;
}

function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] = ((bits[i >>> 5] as number) | (1 << (i & 31))) >>> 0;
}

function clearBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] = ((bits[i >>> 5] as number) & ~(1 << (i & 31))) >>> 0;
}
