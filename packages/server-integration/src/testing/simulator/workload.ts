import type { StateMachine } from "../../server/types";
import type { SimRandom } from "./sim-random";

/**
 * How one client operation ended: `ok` (acknowledged, with the state machine's result), `fail`
 * (certainly not applied) or `info` (indeterminate: it may or may not have been applied).
 */
export type SimOutcome<TResult> =
  | { readonly type: "ok"; readonly result: TResult }
  | { readonly type: "fail"; readonly error: string }
  | { readonly type: "info"; readonly error: string };

/**
 * One client operation of a run. `call` and `return` are positions on the run's logical history
 * clock: every invoke and completion takes the next number, so `a.return < b.call` exactly when `a`
 * completed before `b` was invoked. For an indeterminate (`info`) operation `return` is when the
 * client gave up; checkers must treat it as open forever (`+Infinity`).
 */
export interface SimOperation<TCommand, TResult> {
  readonly client: number;
  readonly command: TCommand;
  /** The server the command was proposed to. */
  readonly node: string;
  readonly call: number;
  readonly return: number;
  readonly outcome: SimOutcome<TResult>;
}

/** One node's replica of a workload's state machine, as the invariant and the final check see it. */
export interface SimReplica<TMachine> {
  readonly node: string;
  readonly machine: TMachine;
  /** Highest index applied by this replica (its current process). */
  readonly applied: number;
}

/**
 * A client workload over one Raft group: the user's own state machine plugs in here. The
 * simulator creates one group named `group` on every server, a fresh `createStateMachine()` per
 * server process (a restarted server replays into a new one), and `clients` closed-loop clients
 * that propose `nextCommand` to the server they believe leads and record every operation.
 *
 * A workload object may keep per-run state (the built-in KV workload remembers written values);
 * `simulate` therefore takes a factory and creates fresh workloads for every run.
 */
export interface SimWorkload<TCommand, TResult, TMachine extends StateMachine<TCommand, TResult>> {
  /** Group name: a valid subject token, unique among the run's workloads. */
  readonly group: string;
  /** Number of concurrent clients (each has at most one operation open). */
  readonly clients: number;
  createStateMachine(): TMachine;
  /** The next command of `client`. Must draw randomness only from `random`. */
  nextCommand(client: number, random: SimRandom): TCommand;
  /**
   * Whether `command` only reads. Read-only commands with a {@link query} are not replicated: the
   * client calls the group's linearizable read barrier (`RaftGroup.readBarrier`) on the leader and
   * then runs `query` on that server's replica. Without these two, every command is proposed.
   */
  isReadOnly?(command: TCommand): boolean;
  /** Answers a read-only command from a replica, right after its read barrier resolved. */
  query?(machine: TMachine, command: TCommand): TResult;
  /** Told about every completed operation (e.g. to remember values for compare-and-set). */
  onComplete?(operation: SimOperation<TCommand, TResult>): void;
  /**
   * A cheap invariant over the replicas of running servers, checked after every
   * `invariantEvery` events (option of `simulate`). Return a description of the violation, or
   * `undefined`. Replicas lag each other: compare only what is committed on both.
   */
  invariant?(replicas: readonly SimReplica<TMachine>[]): string | undefined;
  /**
   * The final check, after the liveness phase has healed every fault and the replicas have
   * converged: the full history and the final replicas. Returns violations (empty = correct).
   */
  check?(
    history: readonly SimOperation<TCommand, TResult>[],
    replicas: readonly SimReplica<TMachine>[],
    context: SimCheckContext,
  ): readonly string[];
}

/** What the final check knows about the end of the run. */
export interface SimCheckContext {
  /**
   * Whether every replica caught up with the leader's commit index. When false (only with
   * `requireConvergence: false`), a replica may lack a suffix of what is committed.
   */
  readonly converged: boolean;
}

/** A workload of any command type, as `simulate` holds them. */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of workloads needs an escape hatch.
export type AnySimWorkload = SimWorkload<any, any, StateMachine<any, any>>;
