import type { LogView } from "@raft/core";
import type { GroupStore } from "@raft/wal";

/**
 * The core's read-only {@link LogView} over a {@link GroupStore}. The store's queries reflect
 * every operation already issued, which is exactly what core expects of the shell's log. Reads that
 * fail (out of range, a damaged record) answer `undefined`: core treats such a record as missing
 * and fetches it from the leader again, instead of crashing on bad disk bytes.
 */
export function createStoreLogView(store: GroupStore): LogView {
  return {
    firstIndex: (): number => store.firstIndex,
    lastIndex: (): number => store.lastIndex,
    term(index: number): number | undefined {
      if (index < store.firstIndex || index > store.lastIndex) return undefined;
      try {
        return store.term(index);
      } catch {
        return undefined;
      }
    },
    entry(index: number): Uint8Array | undefined {
      if (index < store.firstIndex || index > store.lastIndex) return undefined;
      try {
        return store.read(index);
      } catch {
        return undefined;
      }
    },
    bytes: (): number => store.sizeBytes,
  };
}
