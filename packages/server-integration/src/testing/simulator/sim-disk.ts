import type { Disk, DiskFile, OpenMode } from "@raft/wal";
import type { FaultyDisk } from "@raft/wal/testing";
import type { SimHost } from "./sim-host";

/** The parts of a simulated process a disk needs: its liveness, pause state and fault switches. */
export interface DiskOwner {
  readonly name: string;
  /** False once the process died: every later call hangs forever, as in a dead process. */
  alive(): boolean;
  /** Runs `fn` now, or when the process resumes from a pause; never after death. */
  whenRunning(fn: () => void): void;
  /** Latency of the next fsync in virtual ms. */
  syncLatency(): number;
  /** Whether writes currently fail with `ENOSPC`. */
  diskFull(): boolean;
  /** Called with +1 when an fsync is issued and -1 when it completes (or the process died). */
  syncsInFlight(delta: number): void;
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

function enospc(): Error {
  return Object.assign(new Error("ENOSPC: no space left on device (simulated)"), {
    code: "ENOSPC",
  });
}

/**
 * One process's view of a node's {@link FaultyDisk}. Writes land in the page cache at once;
 * `datasync` and `syncDir` complete through the scheduler after a seeded latency, so that a crash
 * can fall between a write and its fsync as on real hardware. Calls made by a dead process never
 * complete (its promise chains stop, as the process would), so that they cannot touch the files of
 * the process that restarted on the same disk.
 */
export function createSimDisk(inner: FaultyDisk, owner: DiskOwner, host: SimHost): Disk {
  const gate = <T>(run: () => Promise<T>): Promise<T> => {
    if (!owner.alive()) return never<T>();
    host.activity++;
    return run().then(
      (v) => (owner.alive() ? v : never<T>()),
      (e: unknown) => (owner.alive() ? Promise.reject(e) : never<T>()),
    );
  };
  const later = (op: () => Promise<void>): Promise<void> => {
    if (!owner.alive()) return never<void>();
    host.activity++;
    owner.syncsInFlight(1);
    return new Promise<void>((resolve, reject) => {
      const at = host.scheduler.now + owner.syncLatency();
      host.scheduler.schedule(at, owner.name, "fsync", () => {
        if (!owner.alive()) return false;
        owner.whenRunning(() => {
          owner.syncsInFlight(-1);
          op().then(resolve, reject);
        });
        return true;
      });
    });
  };
  const wrap = (file: DiskFile): DiskFile => ({
    write: (data, position) =>
      owner.diskFull()
        ? gate(() => Promise.reject(enospc()))
        : gate(() => file.write(data, position)),
    read: (length, position) => gate(() => file.read(length, position)),
    readSync: (length, position) => {
      if (!owner.alive()) throw Object.assign(new Error("process is dead"), { code: "EIO" });
      return file.readSync(length, position);
    },
    size: () => gate(() => file.size()),
    datasync: () => later(() => file.datasync()),
    truncate: (length) => gate(() => file.truncate(length)),
    close: () => gate(() => file.close()),
  });
  return {
    open: (path: string, mode: OpenMode) =>
      mode === "create" && owner.diskFull()
        ? gate(() => Promise.reject(enospc()))
        : gate(async () => wrap(await inner.open(path, mode))),
    syncDir: (path) => later(() => inner.syncDir(path)),
    rename: (from, to) => gate(() => inner.rename(from, to)),
    unlink: (path) => gate(() => inner.unlink(path)),
    list: (path) => gate(() => inner.list(path)),
    mkdir: (path) => gate(() => inner.mkdir(path)),
    exists: (path) => gate(() => inner.exists(path)),
  };
}
