import type { Disk, DiskFile } from "@raft/wal";
import type { Clock } from "../../src/index";

/**
 * A {@link Disk} wrapper whose `datasync` takes `syncMs` of the given clock before it reaches the
 * inner disk, so that in virtual time there is a window in which written bytes are not yet durable
 * (as on real hardware). Everything else passes straight through.
 */
export function createSlowDisk(inner: Disk, clock: Clock, syncMs: number): Disk {
  const wait = (): Promise<void> =>
    new Promise<void>((resolve) => {
      clock.setTimer(syncMs, resolve);
    });
  const wrap = (file: DiskFile): DiskFile => ({
    write: (data, position) => file.write(data, position),
    read: (length, position) => file.read(length, position),
    readSync: (length, position) => file.readSync(length, position),
    size: () => file.size(),
    datasync: async () => {
      await wait();
      await file.datasync();
    },
    truncate: (length) => file.truncate(length),
    close: () => file.close(),
  });
  return {
    open: async (path, mode) => wrap(await inner.open(path, mode)),
    syncDir: async (path) => {
      await wait();
      await inner.syncDir(path);
    },
    rename: (from, to) => inner.rename(from, to),
    unlink: (path) => inner.unlink(path),
    list: (path) => inner.list(path),
    mkdir: (path) => inner.mkdir(path),
    exists: (path) => inner.exists(path),
  };
}
