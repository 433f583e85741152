import type { ProcessId } from "./history";

/**
 * One completed operation as the linearizability checker sees it.
 *
 * Contract:
 * - `call <= return`; both are times on one clock. Two operations are ordered in real time only
 *   when one's `return` is strictly smaller than the other's `call`; equal times count as
 *   overlapping, because the recorder could not tell their order.
 * - An indeterminate operation (it may or may not have taken effect) has `return = +Infinity` and
 *   `output = undefined`. The checker may linearize it anywhere after its call or drop it.
 * - Operations that certainly did not take effect (Jepsen `fail`) must not be passed at all.
 * - `key` selects the partition: operations on different keys are checked independently
 *   (P-compositionality). Use one constant key for a state machine without keys.
 */
export interface Operation<TInput, TOutput> {
  /** The caller's identifier, reported back unchanged (e.g. the index of the `invoke` event). */
  readonly id: number;
  readonly process: ProcessId;
  readonly key: string;
  readonly input: TInput;
  /** The observed result; `undefined` means unknown (indeterminate operation). */
  readonly output: TOutput | undefined;
  readonly call: number;
  readonly return: number;
}

/**
 * A sequential specification of one partition (one key) of a state machine, as Porcupine models it.
 * The checker treats states as immutable values: `step` must not modify `state` and must return a
 * new value (or the same one) as `next`.
 *
 * - `step(state, input, output)` says whether applying `input` in `state` may produce `output`, and
 *   the state afterwards. When `output` is `undefined` (indeterminate operation) it must apply the
 *   operation's effect and answer `ok = true` whenever the operation can execute at all.
 * - `equal` and `hash` define state identity for the memo cache: `equal(a, b)` implies
 *   `hash(a) === hash(b)`. A wrong `hash` costs speed only; a wrong `equal` costs soundness.
 * - `isReadOnly(input)`, when given, lets the checker drop indeterminate read-only operations up
 *   front (they cannot affect anything).
 * - `describeOperation` and `describeState` only shape the failure explanation.
 */
export interface Model<TState, TInput, TOutput> {
  init(): TState;
  step(state: TState, input: TInput, output: TOutput | undefined): StepResult<TState>;
  equal(a: TState, b: TState): boolean;
  hash(state: TState): number | string;
  isReadOnly?(input: TInput): boolean;
  describeOperation?(input: TInput, output: TOutput | undefined): string;
  describeState?(state: TState): string;
}

/** `[ok, next]`: whether the step is allowed, and the state after it (ignored when not ok). */
export type StepResult<TState> = readonly [ok: boolean, next: TState];
