import type { Scheduler } from "./scheduler";
import type { Trace } from "./trace";

/** What the parts of a simulation share: the virtual time, the trace and an activity counter. */
export interface SimHost {
  readonly scheduler: Scheduler;
  readonly trace: Trace;
  /**
   * Bumped by every hook the simulated stack calls (disk call, publish, timer, apply). The loop
   * keeps yielding while it moves, to let promise chains started by an event settle before
   * virtual time advances.
   */
  activity: number;
  /**
   * Told when a process publishes a granted vote (`voter` and `candidate` are server names), so
   * that the fault schedule can cut power right then (a protocol-aware, BUGGIFY-style fault).
   */
  onVoteGranted: ((voter: string, candidate: string, term: number) => void) | undefined;
}
