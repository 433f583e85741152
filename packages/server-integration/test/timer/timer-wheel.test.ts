import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { createManualClock } from "../../src/index";
import { createTimerWheel } from "../../src/timer/timer-wheel";

describe("TimerWheel", () => {
  it("keeps one clock timer for many keys and fires them in deadline order", () => {
    const clock = createManualClock(0);
    const wheel = createTimerWheel(clock);
    const fired: string[] = [];
    wheel.schedule("b", 20, () => fired.push("b"));
    wheel.schedule("a", 10, () => fired.push("a"));
    wheel.schedule("c", 30, () => fired.push("c"));
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(25);
    expect(fired).toEqual(["a", "b"]);
    expect(wheel.size()).toBe(1);
    clock.advance(10);
    expect(fired).toEqual(["a", "b", "c"]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("replaces a key's deadline and forgets cancelled keys", () => {
    const clock = createManualClock(0);
    const wheel = createTimerWheel(clock);
    const fired: string[] = [];
    wheel.schedule("a", 10, () => fired.push("a10"));
    wheel.schedule("a", 50, () => fired.push("a50"));
    wheel.schedule("b", 5, () => fired.push("b"));
    wheel.cancel("b");
    wheel.schedule("b", 5, () => fired.push("b-again"));
    clock.advance(20);
    expect(fired).toEqual(["b-again"]);
    clock.advance(40);
    expect(fired).toEqual(["b-again", "a50"]);
    wheel.close();
    wheel.schedule("c", 70, () => fired.push("c"));
    clock.advance(100);
    expect(fired).toEqual(["b-again", "a50"]);
  });

  test.prop([
    fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 1000 })), {
      maxLength: 60,
    }),
  ])("fires each key once at its last deadline, never early", (ops) => {
    const clock = createManualClock(0);
    const wheel = createTimerWheel(clock);
    const last = new Map<string, number>();
    const fired = new Map<string, number>();
    for (const [k, deadline] of ops) {
      const key = `k${k}`;
      last.set(key, deadline);
      wheel.schedule(key, deadline, () => {
        expect(fired.has(key)).toBe(false);
        fired.set(key, clock.now());
      });
    }
    clock.advance(2000);
    expect(fired.size).toBe(last.size);
    for (const [key, deadline] of last) expect(fired.get(key)).toBe(deadline);
  });
});
