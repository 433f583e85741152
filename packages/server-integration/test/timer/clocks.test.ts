import { describe, expect, it } from "vitest";
import { createManualClock, createSystemClock } from "../../src/index";

describe("ManualClock", () => {
  it("fires due timers in order as time advances, including ones armed by callbacks", () => {
    const clock = createManualClock(100);
    const seen: string[] = [];
    clock.setTimer(10, () => {
      seen.push(`a@${clock.now()}`);
      clock.setTimer(0, () => seen.push(`c@${clock.now()}`));
    });
    const b = clock.setTimer(20, () => seen.push("b"));
    clock.setTimer(30, () => seen.push(`d@${clock.now()}`));
    clock.clearTimer(b);
    expect(clock.nextTimerAt()).toBe(110);
    clock.advance(50);
    expect(seen).toEqual(["a@110", "c@110", "d@130"]);
    expect(clock.now()).toBe(150);
    clock.advanceTo(10);
    expect(clock.now()).toBe(150);
  });
});

describe("SystemClock", () => {
  it("fires a real timer and cancels another", async () => {
    const clock = createSystemClock();
    const start = clock.now();
    let cancelledFired = false;
    const id = clock.setTimer(5, () => {
      cancelledFired = true;
    });
    clock.clearTimer(id);
    await new Promise<void>((resolve) => clock.setTimer(15, resolve));
    expect(clock.now() - start).toBeGreaterThanOrEqual(14);
    expect(cancelledFired).toBe(false);
  });
});
