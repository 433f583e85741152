/**
 * Yields one turn of the host event loop. This is the simulator's only contact with the host: no
 * time is read and no timer is armed. It is needed because `@raft/wal`'s store starts its write
 * worker with `setImmediate` (to batch callers into one group commit), so promise chains of the
 * simulated stack cross macrotask boundaries. Immediates run in FIFO order and nothing else
 * touches the simulated state, so the interleaving is a pure function of the event sequence.
 */
export function hostTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    setImmediate(resolve);
  });
}
