import type { Clock, TimerId } from "../server/types";

/**
 * The real {@link Clock}: `performance.now()` (monotonic, unaffected by wall-clock jumps) and
 * `setTimeout`. Timers are unref'd so that a forgotten server never keeps the process alive.
 */
export function createSystemClock(): Clock {
  const timers = new Map<TimerId, ReturnType<typeof setTimeout>>();
  let nextId = 1;
  return {
    now: (): number => performance.now(),
    setTimer(delayMs: number, callback: () => void): TimerId {
      const id = nextId++;
      const handle = setTimeout(
        () => {
          timers.delete(id);
          callback();
        },
        Math.max(0, delayMs),
      );
      handle.unref();
      timers.set(id, handle);
      return id;
    },
    clearTimer(id: TimerId): void {
      const handle = timers.get(id);
      if (handle === undefined) return;
      clearTimeout(handle);
      timers.delete(id);
    },
  };
}
