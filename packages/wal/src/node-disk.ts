import { readSync } from "node:fs";
import { type FileHandle, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import type { Disk, DiskFile, OpenMode } from "./disk";

const FLAGS: Record<OpenMode, string> = { read: "r", write: "r+", create: "w+" };

class NodeFile implements DiskFile {
  readonly #handle: FileHandle;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    // A positional write may be short; loop until every byte is handed to the kernel.
    while (done < data.length) {
      const { bytesWritten } = await this.#handle.write(
        data,
        done,
        data.length - done,
        position + done,
      );
      done += bytesWritten;
    }
  }

  async read(length: number, position: number): Promise<Uint8Array> {
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.#handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? buffer : buffer.subarray(0, done);
  }

  readSync(length: number, position: number): Uint8Array {
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.#handle.fd, buffer, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buffer : buffer.subarray(0, done);
  }

  async size(): Promise<number> {
    return (await this.#handle.stat()).size;
  }

  datasync(): Promise<void> {
    return this.#handle.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.#handle.truncate(length);
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

class NodeDisk implements Disk {
  async open(path: string, mode: OpenMode): Promise<DiskFile> {
    return new NodeFile(await open(path, FLAGS[mode], 0o600));
  }

  async syncDir(path: string): Promise<void> {
    // Linux makes directory entries durable through fsync on a read-only descriptor of the dir.
    const handle = await open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  rename(from: string, to: string): Promise<void> {
    return rename(from, to);
  }

  unlink(path: string): Promise<void> {
    return unlink(path);
  }

  list(path: string): Promise<string[]> {
    return readdir(path);
  }

  async mkdir(path: string): Promise<void> {
    await mkdir(path, { recursive: true, mode: 0o700 });
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") return false;
      throw error;
    }
  }
}

/**
 * The real {@link Disk} on `node:fs/promises` file handles: `datasync` is fdatasync(2), `syncDir`
 * fsyncs a descriptor of the directory, `readSync` uses the handle's descriptor with `fs.readSync`.
 * Files are created with mode 0600 and directories with 0700.
 */
export function createNodeDisk(): Disk {
  return new NodeDisk();
}
