import { ServerError } from "../server/server-error";

/** A membership change this server asked for, waiting to take effect. */
interface PendingChange {
  readonly peer: string;
  readonly add: boolean;
  readonly deadline: number;
  /** Accepted by core as leader (tracked to commit), or forwarded as a follower. */
  readonly asLeader: boolean;
  readonly resolve: () => void;
  readonly reject: (e: ServerError) => void;
}

/** What the tracker reads from the node. */
export interface MembershipView {
  membershipChangeInProgress(): boolean;
  peerNames(): readonly string[];
}

/**
 * Membership changes (add/remove peer) of one group that core accepted, until this server sees
 * them take effect, sees them lost, or they time out. Bounded by the caller (`size()`).
 */
export class MembershipRequests {
  readonly #group: string;
  readonly #pending: PendingChange[] = [];

  /** @param group - the group name, for error messages. */
  constructor(group: string) {
    this.#group = group;
  }

  /** Changes waiting. */
  size(): number {
    return this.#pending.length;
  }

  /** Tracks a change core accepted. */
  add(change: PendingChange): void {
    this.#pending.push(change);
  }

  /**
   * Settles what can be settled now: done (the peer set shows the change and none is in flight),
   * lost (a change this node made as leader is no longer in flight yet not in the peer set: a
   * leader change truncated it), or timed out.
   */
  check(node: MembershipView, now: number): void {
    if (this.#pending.length === 0) return;
    const inProgress = node.membershipChangeInProgress();
    const members = node.peerNames();
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const m = this.#pending[i] as PendingChange;
      const done = members.includes(m.peer) === m.add;
      let error: ServerError | undefined;
      if (!inProgress && done) {
        this.#pending.splice(i, 1);
        m.resolve();
        continue;
      }
      if (!inProgress && m.asLeader) {
        error = new ServerError(
          "MEMBERSHIP",
          `group ${this.#group}: ${m.add ? "adding" : "removing"} peer ${m.peer} was lost`,
          { reason: "LOST" },
        );
      } else if (m.deadline <= now) {
        error = new ServerError(
          "TIMEOUT",
          `group ${this.#group}: membership change not seen in time`,
        );
      }
      if (error === undefined) continue;
      this.#pending.splice(i, 1);
      m.reject(error);
    }
  }

  /** The earliest deadline, or `undefined`. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const m of this.#pending) if (min === undefined || m.deadline < min) min = m.deadline;
    return min;
  }

  /** Rejects everything (group stopped). */
  rejectAll(error: ServerError): void {
    for (const m of this.#pending.splice(0)) m.reject(error);
  }
}
