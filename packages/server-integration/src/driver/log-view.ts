import type { LogView } from "@raft/core";
import type { GroupStore } from "@raft/wal";

/**
 * The core's read-only {@link LogView} over the group's current {@link GroupStore}, asked for at
 * every call: a `reset()` wipe replaces the store with a fresh one under the same view. The store's queries reflect
 * every operation already issued, which is exactly what core expects of the shell's log. Reads that
 * fail (out of range, a damaged record) answer `undefined`: core treats such a record as missing
 * and fetches it from the leader again, instead of crashing on bad disk bytes.
 */
export function createStoreLogView(current: () => GroupStore): LogView {
  return {
    firstIndex: (): number => current().firstIndex,
    lastIndex: (): number => current().lastIndex,
    term(index: number): number | undefined {
      const store = current();
      if (index < store.firstIndex || index > store.lastIndex) return undefined;
      try {
        return store.term(index);
      } catch {
        return undefined;
      }
    },
    entry(index: number): Uint8Array | undefined {
      const store = current();
      if (index < store.firstIndex || index > store.lastIndex) return undefined;
      try {
        return store.read(index);
      } catch {
        return undefined;
      }
    },
    bytes: (): number => current().sizeBytes,
  };
}
