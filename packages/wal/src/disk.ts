/**
 * How {@link Disk.open} opens a file: `"read"` an existing file read-only, `"write"` an existing
 * file read-write, `"create"` read-write, creating it or truncating it to zero bytes.
 */
export type OpenMode = "read" | "write" | "create";

/**
 * An open file. Positions and lengths are byte offsets; every method may throw an error carrying a
 * Node-style `code` (`"EIO"`, `"ENOSPC"`, `"ENOENT"`, …), which the store turns into a `WalError`.
 */
export interface DiskFile {
  /** Writes all of `data` at `position` (extending the file if needed). Not durable until `datasync`. */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Reads up to `length` bytes at `position`; fewer only at end of file. The caller owns the result. */
  read(length: number, position: number): Promise<Uint8Array>;
  /**
   * Synchronous `read`, used by the store's synchronous `read(index)` for records that fell out of
   * its cache.
   */
  readSync(length: number, position: number): Uint8Array;
  /** Current size in bytes (including writes not yet synced). */
  size(): Promise<number>;
  /** fdatasync: resolves once every earlier write and truncate of this file is durable. */
  datasync(): Promise<void>;
  /** Cuts or extends the file to `length` bytes. Not durable until `datasync`. */
  truncate(length: number): Promise<void>;
  /** Closes the handle; later calls on it fail. */
  close(): Promise<void>;
}

/**
 * The storage port of `@raft/wal`. Paths are `/`-separated. Directory operations (create, rename,
 * unlink) are durable only after `syncDir` of the directory that holds the entry.
 *
 * Implementations: `createNodeDisk()` (real files), and from `@raft/wal/testing`
 * `createMemoryDisk()` and `createFaultyDisk()`.
 */
export interface Disk {
  /** Opens `path` (see {@link OpenMode}); rejects with `ENOENT` if it must exist and does not. */
  open(path: string, mode: OpenMode): Promise<DiskFile>;
  /** fsync of a directory: makes earlier creates, renames and unlinks of its entries durable. */
  syncDir(path: string): Promise<void>;
  /** Atomically replaces `to` by `from` (same directory). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Names (not paths) of the entries directly inside a directory, in no particular order. */
  list(path: string): Promise<string[]>;
  /** Creates a directory and its parents; succeeds if it exists. */
  mkdir(path: string): Promise<void>;
  /** Whether a file or directory exists at `path`. */
  exists(path: string): Promise<boolean>;
}
