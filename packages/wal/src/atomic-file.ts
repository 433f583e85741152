import type { Disk } from "./disk";

/** Joins path parts with `/` (the Disk port's separator). */
export function joinPath(...parts: string[]): string {
  return parts.join("/").replace(/\/+/g, "/");
}

/** Reads a whole file, or `undefined` if it does not exist. Other errors propagate. */
export async function readWholeFile(disk: Disk, path: string): Promise<Uint8Array | undefined> {
  let file: Awaited<ReturnType<Disk["open"]>>;
  try {
    file = await disk.open(path, "read");
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return await file.read(await file.size(), 0);
  } finally {
    await file.close();
  }
}

/**
 * Replaces `dir/name` with `bytes` atomically and durably: write `name.tmp`, fdatasync it, rename it
 * over `name`, fsync the directory. After a crash the file holds either the old or the new bytes,
 * and once this resolves it holds the new bytes.
 */
export async function writeFileAtomic(
  disk: Disk,
  dir: string,
  name: string,
  bytes: Uint8Array,
): Promise<void> {
  const temp = joinPath(dir, `${name}.tmp`);
  const file = await disk.open(temp, "create");
  try {
    await file.write(bytes, 0);
    await file.datasync();
  } finally {
    await file.close();
  }
  await disk.rename(temp, joinPath(dir, name));
  await disk.syncDir(dir);
}
