/** One scheduled item: ordered by `at`, then by `seq` (insertion order), so order is total. */
export interface Scheduled {
  readonly at: number;
  readonly seq: number;
}

/** A binary min-heap of scheduled items. Pure; the owner bounds its size. */
export class DeliveryQueue<T extends Scheduled> {
  private readonly heap: T[] = [];

  /** Number of items queued. */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest item without removing it. */
  peek(): T | undefined {
    return this.heap[0];
  }

  /** Adds an item. */
  push(item: T): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as T, heap[parent] as T)) break;
      swap(heap, i, parent);
      i = parent;
    }
  }

  /** Removes and returns the earliest item. */
  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l] as T, heap[m] as T)) m = l;
      if (r < heap.length && before(heap[r] as T, heap[m] as T)) m = r;
      if (m === i) break;
      swap(heap, i, m);
      i = m;
    }
    return top;
  }

  /** Removes everything. */
  clear(): void {
    this.heap.length = 0;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function swap<T>(heap: T[], i: number, j: number): void {
  const t = heap[i] as T;
  heap[i] = heap[j] as T;
  heap[j] = t;
}
