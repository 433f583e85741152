/**
 * An ascending list of sequences (one subject's messages). Appends are always above the last
 * element, and removals are mostly of the first one (limits drop the oldest), so the list keeps a
 * head offset instead of shifting, and compacts once the dead prefix is half of the array.
 * Internal to the store.
 */
export class SeqList {
  #items: number[] = [];
  #head = 0;

  /** Number of sequences held. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The lowest sequence, or `undefined` when empty. */
  first(): number | undefined {
    return this.#items[this.#head];
  }

  /** The highest sequence, or `undefined` when empty. */
  last(): number | undefined {
    return this.size === 0 ? undefined : this.#items[this.#items.length - 1];
  }

  /** Appends `seq`, which must be above every sequence held. */
  push(seq: number): void {
    this.#items.push(seq);
  }

  /** Removes `seq` if held; returns whether it was. */
  remove(seq: number): boolean {
    if (this.#items[this.#head] === seq) {
      this.#head++;
      this.#compact();
      return true;
    }
    let lo = this.#head + 1;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#items[mid] ?? 0) < seq) lo = mid + 1;
      else hi = mid;
    }
    if (this.#items[lo] !== seq) return false;
    this.#items.splice(lo, 1);
    return true;
  }

  /** The sequences held, ascending (a new array). */
  toArray(): number[] {
    return this.#items.slice(this.#head);
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 32 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
