import type { Disk, DiskFile } from "@raft/wal";
import type { Clock } from "../../src/index";

/**
 * A {@link Disk} wrapper whose `datasync` takes `syncMs` of the given clock before it reaches the
 * inner disk, so that in virtual time there is a window in which written bytes are not yet durable
 * (as on real hardware), while `switch_.on`. Everything else passes straight through until the
 * `fence` marks the owning process as crashed.
 */
export function createSlowDisk(
  inner: Disk,
  clock: Clock,
  syncMs: number,
  switch_: { on: boolean },
  fence: { dead: boolean } = { dead: false },
): Disk {
  // A crashed process does no more IO: once `fence.dead`, every call of this instance fails,
  // including syncs that were waiting on the clock. A restarted server gets a fresh instance.
  const alive = (): void => {
    if (fence.dead) throw Object.assign(new Error("process crashed"), { code: "EIO" });
  };
  // Off while stores open: opening happens outside the loop that moves virtual time.
  const wait = (): Promise<void> =>
    switch_.on
      ? new Promise<void>((resolve) => {
          clock.setTimer(syncMs, resolve);
        })
      : Promise.resolve();
  const wrap = (file: DiskFile): DiskFile => ({
    write: async (data, position) => {
      alive();
      await file.write(data, position);
    },
    read: async (length, position) => {
      alive();
      return file.read(length, position);
    },
    readSync: (length, position) => {
      alive();
      return file.readSync(length, position);
    },
    size: async () => {
      alive();
      return file.size();
    },
    datasync: async () => {
      alive();
      await wait();
      alive();
      await file.datasync();
    },
    truncate: async (length) => {
      alive();
      await file.truncate(length);
    },
    close: () => file.close(),
  });
  return {
    open: async (path, mode) => {
      alive();
      return wrap(await inner.open(path, mode));
    },
    syncDir: async (path) => {
      alive();
      await wait();
      alive();
      await inner.syncDir(path);
    },
    rename: async (from, to) => {
      alive();
      await inner.rename(from, to);
    },
    unlink: async (path) => {
      alive();
      await inner.unlink(path);
    },
    list: async (path) => {
      alive();
      return inner.list(path);
    },
    mkdir: async (path) => {
      alive();
      await inner.mkdir(path);
    },
    exists: async (path) => {
      alive();
      return inner.exists(path);
    },
  };
}
