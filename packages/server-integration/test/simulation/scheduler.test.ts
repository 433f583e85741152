import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/testing/simulator/scheduler";
import { Trace } from "../../src/testing/simulator/trace";

describe("Scheduler", () => {
  it("pops events by time, then in scheduling order", () => {
    const s = new Scheduler();
    const order: string[] = [];
    const add = (at: number, name: string): void => {
      s.schedule(at, "-", name, () => {
        order.push(name);
        return true;
      });
    };
    add(5, "a");
    add(1, "b");
    add(5, "c");
    add(0, "d");
    add(1, "e");
    for (let e = s.pop(); e !== undefined; e = s.pop()) e.run();
    expect(order).toEqual(["d", "b", "e", "a", "c"]);
    expect(s.now).toBe(5);
  });

  it("never moves time backwards", () => {
    const s = new Scheduler();
    s.advanceTo(10);
    s.advanceTo(3);
    expect(s.now).toBe(10);
    s.schedule(2, "-", "late", () => true);
    expect(s.peekAt()).toBe(10);
  });
});

describe("Trace", () => {
  it("hashes line boundaries, not just characters", () => {
    const a = new Trace("hash");
    a.write(0, "n1", "x", "ab");
    a.write(0, "n1", "x", "c");
    const b = new Trace("hash");
    b.write(0, "n1", "x", "a");
    b.write(0, "n1", "x", "bc");
    expect(a.hash()).not.toBe(b.hash());
  });

  it("keeps lines only when asked", () => {
    const kept = new Trace("lines");
    const hashed = new Trace("hash");
    for (const t of [kept, hashed]) t.write(1234, "n2", "timer", "");
    expect(kept.lines).toEqual(["    1.234 n2  timer    "]);
    expect(hashed.lines).toEqual([]);
    expect(kept.hash()).toBe(hashed.hash());
    expect(new Trace("off").enabled).toBe(false);
  });
});
