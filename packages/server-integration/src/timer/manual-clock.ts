import type { Clock, TimerId } from "../server/types";

/**
 * A virtual {@link Clock} for tests and simulations: time moves only when the owner calls
 * `advance`/`advanceTo`, which fires due timers in deadline order (ties in arming order).
 */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` (≥ 0), firing every timer that falls due on the way. */
  advance(ms: number): void;
  /** Moves time to `time` (never backwards), firing due timers. */
  advanceTo(time: number): void;
  /** Deadline of the earliest armed timer, or `undefined`. */
  nextTimerAt(): number | undefined;
  /** Number of armed timers. */
  pendingTimers(): number;
}

interface Armed {
  readonly id: TimerId;
  readonly at: number;
  readonly callback: () => void;
}

/** Creates a {@link ManualClock} whose time starts at `start` ms (default 0). */
export function createManualClock(start = 0): ManualClock {
  let now = start;
  let nextId = 1;
  const armed = new Map<TimerId, Armed>();

  const earliest = (): Armed | undefined => {
    let best: Armed | undefined;
    for (const t of armed.values()) {
      if (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  };

  const advanceTo = (time: number): void => {
    // Callbacks may arm new timers that are already due; each is fired in turn. The loop ends
    // because every iteration removes one timer and time never passes `time`.
    for (;;) {
      const next = earliest();
      if (next === undefined || next.at > time) break;
      armed.delete(next.id);
      now = Math.max(now, next.at);
      next.callback();
    }
    now = Math.max(now, time);
  };

  return {
    now: (): number => now,
    setTimer(delayMs: number, callback: () => void): TimerId {
      const id = nextId++;
      armed.set(id, { id, at: now + Math.max(0, delayMs), callback });
      return id;
    },
    clearTimer(id: TimerId): void {
      armed.delete(id);
    },
    advance(ms: number): void {
      advanceTo(now + Math.max(0, ms));
    },
    advanceTo,
    nextTimerAt: (): number | undefined => earliest()?.at,
    pendingTimers: (): number => armed.size,
  };
}
