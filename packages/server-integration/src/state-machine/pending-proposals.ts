import type { ServerError } from "../server/server-error";

/** One proposal the server accepted and has not resolved yet. */
interface Pending {
  readonly id: string;
  readonly deadline: number;
  /** The encoded envelope; dropped once it was handed to core. */
  data: Uint8Array | undefined;
  /** The term in which core accepted it; 0 while still queued. */
  term: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: ServerError) => void;
}

/**
 * The proposals of one group that wait for the driver loop (queued) or for their entry to be
 * applied (in flight). Bounded by the caller (`size()` against the limit). Insertion order is
 * deadline order, because every proposal gets the same timeout from a monotonic clock.
 */
export class PendingProposals {
  readonly #byId = new Map<string, Pending>();
  readonly #queued: Pending[] = [];

  /** Proposals queued or in flight. */
  size(): number {
    return this.#byId.size;
  }

  /** Proposals not yet handed to core. */
  queuedCount(): number {
    return this.#queued.length;
  }

  /** Adds a proposal to the queue. */
  add(
    id: string,
    data: Uint8Array,
    deadline: number,
    resolve: (result: unknown) => void,
    reject: (error: ServerError) => void,
  ): void {
    const pending: Pending = { id, deadline, data, term: 0, resolve, reject };
    this.#byId.set(id, pending);
    this.#queued.push(pending);
  }

  /**
   * Hands every queued proposal to `submit`, which returns the term core accepted it in, or an
   * error to reject it with.
   */
  drainQueued(submit: (data: Uint8Array) => number | ServerError): void {
    const batch = this.#queued.splice(0, this.#queued.length);
    for (const p of batch) {
      if (!this.#byId.has(p.id) || p.data === undefined) continue;
      const outcome = submit(p.data);
      p.data = undefined;
      if (typeof outcome === "number") {
        p.term = outcome;
      } else {
        this.#byId.delete(p.id);
        p.reject(outcome);
      }
    }
  }

  /**
   * Resolves the proposal `id` with `result` if this server still waits for it and core accepted
   * it in `term`, the term of the entry being applied. The term check makes a match exact even if
   * an id repeats (a restarted process with a replayed random stream, another server with the
   * same stream): a leader appends only entries of its own term, and election safety gives every
   * term one leader.
   */
  resolve(id: string, term: number, result: unknown): boolean {
    const p = this.#byId.get(id);
    if (p === undefined || p.term !== term) return false;
    this.#byId.delete(id);
    p.resolve(result);
    return true;
  }

  /**
   * Rejects every in-flight proposal accepted in a term below `term`, once an entry of `term` was
   * applied: log terms never decrease along the log, so every surviving entry of an earlier term
   * was applied before it, and a proposal still waiting was never committed.
   */
  rejectOlderThan(term: number, error: () => ServerError): number {
    let n = 0;
    for (const p of this.#byId.values()) {
      if (p.term === 0 || p.term >= term) continue;
      this.#byId.delete(p.id);
      p.reject(error());
      n++;
    }
    return n;
  }

  /** Rejects every in-flight proposal (their outcome became unknown); queued ones stay. */
  rejectInFlight(error: () => ServerError): number {
    let n = 0;
    for (const p of this.#byId.values()) {
      if (p.term === 0) continue;
      this.#byId.delete(p.id);
      p.reject(error());
      n++;
    }
    return n;
  }

  /** Rejects every proposal whose deadline is at or before `now`; returns how many. */
  expire(now: number, error: () => ServerError): number {
    let n = 0;
    for (const p of this.#byId.values()) {
      if (p.deadline > now) break;
      this.#byId.delete(p.id);
      p.reject(error());
      n++;
    }
    return n;
  }

  /** Deadline of the oldest proposal, or `undefined` when none. */
  nextDeadline(): number | undefined {
    for (const p of this.#byId.values()) return p.deadline;
    return undefined;
  }

  /** Rejects everything (group stopped). */
  rejectAll(error: () => ServerError): void {
    const all = [...this.#byId.values()];
    this.#byId.clear();
    this.#queued.length = 0;
    for (const p of all) p.reject(error());
  }
}
