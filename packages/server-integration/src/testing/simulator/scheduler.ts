/**
 * The discrete-event scheduler of the simulator: one virtual clock and a priority queue of events
 * ordered by `(at, seq)`, so that two events due at the same virtual millisecond run in the order
 * they were scheduled. Nothing here reads real time.
 */

/** One scheduled event. `run` returns `false` when it turned out to be a no-op (a cleared timer). */
export interface SimEvent {
  readonly at: number;
  readonly seq: number;
  /** The node the event belongs to (`"-"` for cluster-wide events), for the trace. */
  readonly node: string;
  /** Short event kind for the trace (`timer`, `fsync`, `client`, `fault`, ...). */
  readonly kind: string;
  readonly run: () => boolean;
}

/**
 * A binary min-heap of {@link SimEvent}s and the virtual time. `now` only moves forward, and only
 * when the simulation loop pops an event or delivers a message.
 */
export class Scheduler {
  #now = 0;
  #seq = 0;
  readonly #heap: SimEvent[] = [];

  /** The virtual time in milliseconds. */
  get now(): number {
    return this.#now;
  }

  /** Number of queued events (including no-ops such as cleared timers). */
  get size(): number {
    return this.#heap.length;
  }

  /** Moves the virtual time to `time`; never backwards. */
  advanceTo(time: number): void {
    if (time > this.#now) this.#now = time;
  }

  /** Queues `run` at `at` (clamped to now). Returns the event's sequence number. */
  schedule(at: number, node: string, kind: string, run: () => boolean): number {
    const seq = this.#seq++;
    const event: SimEvent = { at: Math.max(at, this.#now), seq, node, kind, run };
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as SimEvent;
      if (!before(event, parent)) break;
      heap[i] = parent;
      i = p;
    }
    heap[i] = event;
    return seq;
  }

  /** When the earliest event is due, or `undefined` when none is queued. */
  peekAt(): number | undefined {
    return this.#heap[0]?.at;
  }

  /** Removes and returns the earliest event, moving the virtual time to its due time. */
  pop(): SimEvent | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const left = heap[l] as SimEvent;
        const right = heap[r];
        const child = right !== undefined && before(right, left) ? r : l;
        const c = heap[child] as SimEvent;
        if (!before(c, last)) break;
        heap[i] = c;
        i = child;
      }
      heap[i] = last;
    }
    this.advanceTo(top.at);
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
