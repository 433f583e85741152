import type { ServerError } from "../server/server-error";

interface PendingRead {
  readonly deadline: number;
  /** Confirmed read index, once core confirmed the barrier; 0 before. */
  index: number;
  readonly resolve: (applied: number) => void;
  readonly reject: (error: ServerError) => void;
}

/** One confirmation or failure of a read barrier, as `Ready.reads` carries it. */
export interface ReadOutcome {
  readonly id: string;
  readonly index: number;
  readonly code?: "NOT_LEADER" | "CLOSED";
}

/**
 * The linearizable read barriers of one group: queued until the loop hands them to core
 * (`readIndex`), then waiting for core's confirmation and for the applied index to reach it.
 * Insertion order is deadline order (one timeout for all, monotonic clock).
 */
export class ReadBarriers {
  readonly #queued: PendingRead[] = [];
  readonly #byId = new Map<string, PendingRead>();

  /** Barriers queued or waiting. */
  size(): number {
    return this.#queued.length + this.#byId.size;
  }

  /** Barriers not yet handed to core. */
  queuedCount(): number {
    return this.#queued.length;
  }

  /** Queues a barrier. */
  add(
    deadline: number,
    resolve: (applied: number) => void,
    reject: (e: ServerError) => void,
  ): void {
    this.#queued.push({ deadline, index: 0, resolve, reject });
  }

  /** Hands every queued barrier to core; `start` returns the id core assigned. */
  submit(start: () => string): void {
    for (let r = this.#queued.shift(); r !== undefined; r = this.#queued.shift()) {
      this.#byId.set(start(), r);
    }
  }

  /**
   * Records core's outcomes (a failed barrier rejects with `failure(code)`), then resolves every
   * confirmed barrier whose index `applied` reached.
   */
  update(
    outcomes: readonly ReadOutcome[],
    applied: number,
    failure: (code: "NOT_LEADER" | "CLOSED") => ServerError,
  ): void {
    for (const o of outcomes) {
      const r = this.#byId.get(o.id);
      if (r === undefined) continue;
      if (o.code !== undefined) {
        this.#byId.delete(o.id);
        r.reject(failure(o.code));
        continue;
      }
      r.index = o.index;
    }
    for (const [id, r] of this.#byId) {
      if (r.index > 0 && applied >= r.index) {
        this.#byId.delete(id);
        r.resolve(applied);
      }
    }
  }

  /** Rejects every barrier handed to core whose deadline is at or before `now`. */
  expire(now: number, error: () => ServerError): void {
    for (const [id, r] of this.#byId) {
      if (r.deadline > now) break;
      this.#byId.delete(id);
      r.reject(error());
    }
  }

  /** Deadline of the oldest barrier handed to core, or `undefined`. */
  nextDeadline(): number | undefined {
    for (const r of this.#byId.values()) return r.deadline;
    return undefined;
  }

  /** Rejects everything (group stopped). */
  rejectAll(error: ServerError): void {
    const all = [...this.#queued.splice(0), ...this.#byId.values()];
    this.#byId.clear();
    for (const r of all) r.reject(error);
  }
}
