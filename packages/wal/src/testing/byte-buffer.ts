/** A growable byte array with a logical size: the content of one in-memory file. */
export class ByteBuffer {
  #bytes: Uint8Array;
  #size: number;

  /** @param initial - copied; the buffer starts with exactly these bytes. */
  constructor(initial: Uint8Array = new Uint8Array(0)) {
    this.#bytes = new Uint8Array(Math.max(64, initial.length));
    this.#bytes.set(initial);
    this.#size = initial.length;
  }

  /** Current length in bytes. */
  get size(): number {
    return this.#size;
  }

  /** Writes `data` at `position`, zero-filling any gap past the old end. */
  write(data: Uint8Array, position: number): void {
    this.#ensure(position + data.length);
    if (position > this.#size) this.#bytes.fill(0, this.#size, position);
    this.#bytes.set(data, position);
    this.#size = Math.max(this.#size, position + data.length);
  }

  /** Cuts or zero-extends to `length`. */
  truncate(length: number): void {
    this.#ensure(length);
    if (length > this.#size) this.#bytes.fill(0, this.#size, length);
    this.#size = length;
  }

  /** A copy of up to `length` bytes at `position` (fewer at the end). */
  read(length: number, position: number): Uint8Array {
    const end = Math.min(this.#size, position + length);
    return end <= position ? new Uint8Array(0) : this.#bytes.slice(position, end);
  }

  /** XORs `mask` into the byte at `position` (which must be below `size`). */
  flip(position: number, mask: number): void {
    this.#bytes[position] = ((this.#bytes[position] as number) ^ mask) & 0xff;
  }

  /** An independent copy. */
  clone(): ByteBuffer {
    return new ByteBuffer(this.#bytes.subarray(0, this.#size));
  }

  #ensure(length: number): void {
    if (length <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(length, this.#bytes.length * 2));
    grown.set(this.#bytes.subarray(0, this.#size));
    this.#bytes = grown;
  }
}

/** An error shaped like Node's `ErrnoException`, as the real disk would throw. */
export function diskError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** Normalises a `/`-separated path: no repeated or trailing slashes. */
export function normalizePath(path: string): string {
  const collapsed = path.replace(/\/+/g, "/");
  return collapsed.length > 1 && collapsed.endsWith("/") ? collapsed.slice(0, -1) : collapsed;
}

/** The directory part of a normalised path (`"."` for a bare name). */
export function parentOf(path: string): string {
  const at = path.lastIndexOf("/");
  if (at < 0) return ".";
  return at === 0 ? "/" : path.slice(0, at);
}

/** The last component of a normalised path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
