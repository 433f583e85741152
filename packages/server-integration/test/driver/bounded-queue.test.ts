import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { BoundedQueue } from "../../src/driver/bounded-queue";

describe("BoundedQueue", () => {
  it("refuses items beyond its capacity", () => {
    const q = new BoundedQueue<number>(2);
    expect(q.push(1)).toBe(true);
    expect(q.push(2)).toBe(true);
    expect(q.push(3)).toBe(false);
    expect(q.shift()).toBe(1);
    expect(q.push(4)).toBe(true);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([2, 4, undefined]);
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });

  test.prop([
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.option(fc.integer(), { nil: undefined })),
  ])("behaves like a capped array FIFO", (capacity, ops) => {
    const q = new BoundedQueue<number>(capacity);
    const model: number[] = [];
    for (const op of ops) {
      if (op === undefined) {
        expect(q.shift()).toBe(model.shift());
      } else {
        const accepted = model.length < capacity;
        expect(q.push(op)).toBe(accepted);
        if (accepted) model.push(op);
      }
      expect(q.length).toBe(model.length);
      expect(q.length).toBeLessThanOrEqual(capacity);
    }
  });
});
