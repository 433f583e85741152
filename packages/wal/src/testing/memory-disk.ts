import type { Disk, DiskFile, OpenMode } from "../disk";
import { ByteBuffer, baseName, diskError, normalizePath, parentOf } from "./byte-buffer";

class MemoryFile implements DiskFile {
  readonly #data: ByteBuffer;
  readonly #writable: boolean;
  #open = true;

  constructor(data: ByteBuffer, writable: boolean) {
    this.#data = data;
    this.#writable = writable;
  }

  #check(write: boolean): void {
    if (!this.#open) throw diskError("EBADF", "file is closed");
    if (write && !this.#writable) throw diskError("EBADF", "file is open read-only");
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    this.#check(true);
    this.#data.write(data, position);
  }

  async read(length: number, position: number): Promise<Uint8Array> {
    return this.readSync(length, position);
  }

  readSync(length: number, position: number): Uint8Array {
    this.#check(false);
    return this.#data.read(length, position);
  }

  async size(): Promise<number> {
    this.#check(false);
    return this.#data.size;
  }

  async datasync(): Promise<void> {
    this.#check(false);
  }

  async truncate(length: number): Promise<void> {
    this.#check(true);
    this.#data.truncate(length);
  }

  async close(): Promise<void> {
    this.#check(false);
    this.#open = false;
  }
}

class MemoryDisk implements Disk {
  readonly #files = new Map<string, ByteBuffer>();
  readonly #dirs = new Set<string>(["/", "."]);

  async open(path: string, mode: OpenMode): Promise<DiskFile> {
    const p = normalizePath(path);
    if (!this.#dirs.has(parentOf(p))) throw diskError("ENOENT", `no directory for ${p}`);
    let data = this.#files.get(p);
    if (mode === "create") {
      data = new ByteBuffer();
      this.#files.set(p, data);
    } else if (data === undefined) {
      throw diskError("ENOENT", `no such file ${p}`);
    }
    return new MemoryFile(data, mode !== "read");
  }

  async syncDir(path: string): Promise<void> {
    if (!this.#dirs.has(normalizePath(path))) throw diskError("ENOENT", `no directory ${path}`);
  }

  async rename(from: string, to: string): Promise<void> {
    const data = this.#files.get(normalizePath(from));
    if (data === undefined) throw diskError("ENOENT", `no such file ${from}`);
    this.#files.delete(normalizePath(from));
    this.#files.set(normalizePath(to), data);
  }

  async unlink(path: string): Promise<void> {
    if (!this.#files.delete(normalizePath(path))) throw diskError("ENOENT", `no such file ${path}`);
  }

  async list(path: string): Promise<string[]> {
    const dir = normalizePath(path);
    if (!this.#dirs.has(dir)) throw diskError("ENOENT", `no directory ${path}`);
    const names: string[] = [];
    for (const p of [...this.#files.keys(), ...this.#dirs]) {
      if (p !== dir && parentOf(p) === dir) names.push(baseName(p));
    }
    return names;
  }

  async mkdir(path: string): Promise<void> {
    for (let p = normalizePath(path); !this.#dirs.has(p); p = parentOf(p)) this.#dirs.add(p);
  }

  async exists(path: string): Promise<boolean> {
    const p = normalizePath(path);
    return this.#files.has(p) || this.#dirs.has(p);
  }
}

/**
 * An in-memory {@link Disk} with no faults: every write is immediately "durable", nothing is ever
 * lost. For fast unit tests of code above the WAL. Use `createFaultyDisk` to test crash safety.
 */
export function createMemoryDisk(): Disk {
  return new MemoryDisk();
}
