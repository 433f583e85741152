import type { Clock, TimerId } from "../../server/types";
import type { DiskOwner } from "./sim-disk";
import type { SimHost } from "./sim-host";

/**
 * The {@link Clock} of one simulated process: virtual time plus the node's clock offset (clock
 * jumps move the offset forward; it never goes back, as `Clock.now` is monotonic). Timers fire
 * through the scheduler after `delayMs` of virtual time; a paused process fires them on resume, a
 * dead one never.
 */
export function createSimClock(host: SimHost, owner: DiskOwner, offset: () => number): Clock {
  const live = new Set<TimerId>();
  let nextId = 1;
  return {
    now: (): number => host.scheduler.now + offset(),
    setTimer(delayMs: number, callback: () => void): TimerId {
      const id = nextId++;
      live.add(id);
      host.activity++;
      host.scheduler.schedule(
        host.scheduler.now + Math.max(0, delayMs),
        owner.name,
        "timer",
        () => {
          if (!live.delete(id) || !owner.alive()) return false;
          owner.whenRunning(callback);
          return true;
        },
      );
      return id;
    },
    clearTimer(id: TimerId): void {
      live.delete(id);
    },
  };
}
