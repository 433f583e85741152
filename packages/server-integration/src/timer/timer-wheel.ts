import type { Clock, TimerId } from "../server/types";

/**
 * One timer source for every group of a server: each group keeps at most one deadline here, and
 * the wheel keeps exactly one {@link Clock} timer armed, for the earliest deadline. When it fires,
 * every due group's callback runs (they only enqueue work for their own driver loop).
 */
export interface TimerWheel {
  /** Sets (or replaces) the deadline of `key`, an absolute time of the clock. */
  schedule(key: string, deadline: number, callback: () => void): void;
  /** Removes the deadline of `key`, if any. */
  cancel(key: string): void;
  /** Number of keys with a deadline. */
  size(): number;
  /** Cancels everything; later `schedule` calls are ignored. */
  close(): void;
}

interface Slot {
  deadline: number;
  callback: () => void;
  /** Bumped on every reschedule so that stale heap entries are recognised and skipped. */
  generation: number;
}

interface HeapEntry {
  readonly deadline: number;
  readonly key: string;
  readonly generation: number;
}

/** Creates a {@link TimerWheel} over `clock`. */
export function createTimerWheel(clock: Clock): TimerWheel {
  const slots = new Map<string, Slot>();
  const heap: HeapEntry[] = [];
  let armedId: TimerId | undefined;
  let armedAt = Number.POSITIVE_INFINITY;
  let closed = false;
  // Global, so that a key cancelled and scheduled again never matches its stale heap entries.
  let generations = 0;

  const less = (a: HeapEntry, b: HeapEntry): boolean => a.deadline < b.deadline;
  const push = (e: HeapEntry): void => {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as HeapEntry;
      if (!less(e, parent)) break;
      heap[i] = parent;
      i = p;
    }
    heap[i] = e;
  };
  const pop = (): HeapEntry | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const left = heap[l] as HeapEntry;
      const right = heap[r];
      const child = right !== undefined && less(right, left) ? r : l;
      const c = heap[child] as HeapEntry;
      if (!less(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
    return top;
  };
  const isLive = (e: HeapEntry): boolean => {
    const slot = slots.get(e.key);
    return slot !== undefined && slot.generation === e.generation;
  };
  // Stale entries could pile up when groups reschedule often; rebuild when they dominate.
  const compact = (): void => {
    if (heap.length <= 64 || heap.length <= 4 * slots.size) return;
    const live = heap.filter(isLive);
    heap.length = 0;
    for (const e of live) push(e);
  };

  const arm = (): void => {
    while (heap.length > 0 && !isLive(heap[0] as HeapEntry)) pop();
    const top = heap[0];
    const at = top === undefined ? Number.POSITIVE_INFINITY : top.deadline;
    if (at === armedAt && armedId !== undefined) return;
    if (armedId !== undefined) clock.clearTimer(armedId);
    armedId = undefined;
    armedAt = at;
    if (top === undefined || closed) return;
    armedId = clock.setTimer(Math.max(0, at - clock.now()), fire);
  };

  const fire = (): void => {
    armedId = undefined;
    armedAt = Number.POSITIVE_INFINITY;
    const now = clock.now();
    const due: (() => void)[] = [];
    for (;;) {
      const top = heap[0];
      if (top === undefined || top.deadline > now) break;
      pop();
      if (!isLive(top)) continue;
      const slot = slots.get(top.key) as Slot;
      slots.delete(top.key);
      due.push(slot.callback);
    }
    for (const callback of due) callback();
    arm();
  };

  return {
    schedule(key: string, deadline: number, callback: () => void): void {
      if (closed) return;
      const existing = slots.get(key);
      if (existing !== undefined && existing.deadline === deadline) {
        existing.callback = callback;
        return;
      }
      const generation = ++generations;
      slots.set(key, { deadline, callback, generation });
      push({ deadline, key, generation });
      compact();
      arm();
    },
    cancel(key: string): void {
      if (!slots.delete(key)) return;
      arm();
    },
    size: (): number => slots.size,
    close(): void {
      closed = true;
      slots.clear();
      heap.length = 0;
      if (armedId !== undefined) clock.clearTimer(armedId);
      armedId = undefined;
      armedAt = Number.POSITIVE_INFINITY;
    },
  };
}
