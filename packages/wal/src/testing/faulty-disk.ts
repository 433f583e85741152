import type { Disk, DiskFile, OpenMode } from "../disk";
import { ByteBuffer, baseName, diskError, normalizePath, parentOf } from "./byte-buffer";
import { Prng } from "./prng";

/** Disk operations a fault can target. */
export type DiskOp =
  | "open"
  | "write"
  | "read"
  | "datasync"
  | "truncate"
  | "syncDir"
  | "rename"
  | "unlink"
  | "list";

/** Options of {@link createFaultyDisk}. */
export interface FaultyDiskOptions {
  /** Seeds every random choice (torn sectors, reorderings, bit positions). */
  readonly seed: number;
  /** Granularity of torn writes. Default 512. */
  readonly sectorBytes?: number;
}

/** Options of {@link FaultyDisk.crash}. */
export interface CrashOptions {
  /** The last unsynced write of each file may persist only some of its sectors. Default true. */
  readonly tornWrites?: boolean;
  /**
   * Earlier unsynced writes and truncates may also persist, each sector independently, as a page
   * cache flushing dirty pages in any order may do. Default false (they are all lost).
   */
  readonly reorder?: boolean;
}

/**
 * An in-memory {@link Disk} that models a page cache and injects faults, all driven by a seeded
 * PRNG so that a seed replays a run. See docs/design/wal-format.md §7 for the exact model.
 */
export interface FaultyDisk extends Disk {
  /**
   * Simulates power loss: unsynced data writes are lost (the last one per file possibly torn at
   * sector granularity, earlier ones possibly persisted out of order with `reorder`), and a random
   * prefix of each directory's un-fsynced creates/renames/unlinks survives. Open handles die.
   * Clears `powerCutAfter` and pending `failNext` faults.
   */
  crash(options?: CrashOptions): void;
  /**
   * The process dies but the machine keeps running: open handles die, a pending `powerCutAfter`
   * and injected failures are cleared, and nothing is lost: every write, truncate and directory
   * operation stays in the page cache (visible, still not durable until synced).
   */
  kill(): void;
  /**
   * After `n` more mutating calls (open for create, write, truncate, datasync, syncDir, rename,
   * unlink) every call fails with `EIO`, as if the machine had stopped; call `crash()` next.
   */
  powerCutAfter(n: number): void;
  /** Mutating calls made so far (the unit of `powerCutAfter`). */
  readonly mutations: number;
  /** The next call of `op` (any op if omitted) fails with `code` and has no effect. */
  failNext(code: "EIO" | "ENOSPC", op?: DiskOp): void;
  /**
   * The next data write lands `shift` bytes away from where it was aimed (a random non-zero
   * multiple of the sector size if omitted, never before offset 0) and reports success.
   */
  misdirectNext(shift?: number): void;
  /**
   * Flips one bit of the stored (durable and current) bytes of `path` at `offset` (random if
   * omitted) and returns the offset. Throws if the file is missing or the offset is outside it.
   */
  flipBit(path: string, offset?: number, bit?: number): number;
  /** The current bytes of a file (what a read would return), or `undefined` if it does not exist. */
  peek(path: string): Uint8Array | undefined;
}

type Pending =
  | { kind: "write"; data: Uint8Array; position: number }
  | { kind: "truncate"; length: number };

class Inode {
  current: ByteBuffer = new ByteBuffer();
  durable: ByteBuffer = new ByteBuffer();
  pending: Pending[] = [];
}

type DirOp =
  | { kind: "link"; path: string; inode: Inode }
  | { kind: "unlink"; path: string }
  | { kind: "rename"; from: string; to: string; inode: Inode };

class FaultyFile implements DiskFile {
  readonly #disk: FaultyDiskImpl;
  readonly #inode: Inode;
  readonly #epoch: number;
  readonly #writable: boolean;
  #open = true;

  constructor(disk: FaultyDiskImpl, inode: Inode, epoch: number, writable: boolean) {
    this.#disk = disk;
    this.#inode = inode;
    this.#epoch = epoch;
    this.#writable = writable;
  }

  #check(op: DiskOp, write: boolean): void {
    if (!this.#open) throw diskError("EBADF", "file is closed");
    if (write && !this.#writable) throw diskError("EBADF", "file is open read-only");
    this.#disk.gate(op, this.#epoch);
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    this.#check("write", true);
    const at = this.#disk.aim(position);
    const copy = data.slice();
    this.#inode.current.write(copy, at);
    this.#inode.pending.push({ kind: "write", data: copy, position: at });
  }

  async read(length: number, position: number): Promise<Uint8Array> {
    return this.readSync(length, position);
  }

  readSync(length: number, position: number): Uint8Array {
    this.#check("read", false);
    return this.#inode.current.read(length, position);
  }

  async size(): Promise<number> {
    this.#check("read", false);
    return this.#inode.current.size;
  }

  async datasync(): Promise<void> {
    this.#check("datasync", false);
    this.#inode.durable = this.#inode.current.clone();
    this.#inode.pending = [];
  }

  async truncate(length: number): Promise<void> {
    this.#check("truncate", true);
    this.#inode.current.truncate(length);
    this.#inode.pending.push({ kind: "truncate", length });
  }

  async close(): Promise<void> {
    if (!this.#open) throw diskError("EBADF", "file is closed");
    this.#open = false;
  }
}

const MUTATING: ReadonlySet<DiskOp> = new Set<DiskOp>([
  "write",
  "truncate",
  "datasync",
  "syncDir",
  "rename",
  "unlink",
]);

class FaultyDiskImpl implements FaultyDisk {
  readonly #prng: Prng;
  readonly #sector: number;
  #names = new Map<string, Inode>();
  #durableNames = new Map<string, Inode>();
  readonly #dirOps = new Map<string, DirOp[]>();
  readonly #dirs = new Set<string>(["/", "."]);
  #epoch = 0;
  #mutations = 0;
  #cutAt: number | undefined;
  #failures: { code: string; op: DiskOp | undefined }[] = [];
  #shift: number | "random" | undefined;

  constructor(options: FaultyDiskOptions) {
    this.#prng = new Prng(options.seed);
    this.#sector = options.sectorBytes ?? 512;
  }

  get mutations(): number {
    return this.#mutations;
  }

  /** Applies power cuts and injected failures to one call; throws if the call must fail. */
  gate(op: DiskOp, epoch: number = this.#epoch): void {
    if (epoch !== this.#epoch) throw diskError("EIO", "handle from before a crash");
    if (this.#cutAt !== undefined && this.#mutations >= this.#cutAt) {
      throw diskError("EIO", "power is off");
    }
    const at = this.#failures.findIndex((f) => f.op === undefined || f.op === op);
    if (at >= 0) {
      const [failure] = this.#failures.splice(at, 1);
      throw diskError(failure?.code ?? "EIO", `injected failure of ${op}`);
    }
    if (MUTATING.has(op)) this.#mutations++;
  }

  /** Where a write aimed at `position` lands (misdirection). */
  aim(position: number): number {
    const shift = this.#shift;
    if (shift === undefined) return position;
    this.#shift = undefined;
    const delta =
      shift === "random"
        ? (this.#prng.int(8) + 1) * this.#sector * (this.#prng.chance(0.5) ? 1 : -1)
        : shift;
    return Math.max(0, position + delta);
  }

  async open(path: string, mode: OpenMode): Promise<DiskFile> {
    const p = normalizePath(path);
    this.gate(mode === "create" ? "write" : "open");
    if (!this.#dirs.has(parentOf(p))) throw diskError("ENOENT", `no directory for ${p}`);
    let inode = this.#names.get(p);
    if (mode === "create") {
      if (inode === undefined) {
        inode = new Inode();
        this.#names.set(p, inode);
        this.#dirOp({ kind: "link", path: p, inode });
      } else {
        inode.current.truncate(0);
        inode.pending.push({ kind: "truncate", length: 0 });
      }
    } else if (inode === undefined) {
      throw diskError("ENOENT", `no such file ${p}`);
    }
    return new FaultyFile(this, inode, this.#epoch, mode !== "read");
  }

  async syncDir(path: string): Promise<void> {
    const dir = normalizePath(path);
    this.gate("syncDir");
    if (!this.#dirs.has(dir)) throw diskError("ENOENT", `no directory ${dir}`);
    for (const op of this.#dirOps.get(dir) ?? []) applyDirOp(this.#durableNames, op);
    this.#dirOps.delete(dir);
  }

  async rename(from: string, to: string): Promise<void> {
    const a = normalizePath(from);
    const b = normalizePath(to);
    this.gate("rename");
    const inode = this.#names.get(a);
    if (inode === undefined) throw diskError("ENOENT", `no such file ${a}`);
    if (parentOf(a) !== parentOf(b)) throw diskError("EXDEV", "rename across directories");
    this.#names.delete(a);
    this.#names.set(b, inode);
    this.#dirOp({ kind: "rename", from: a, to: b, inode });
  }

  async unlink(path: string): Promise<void> {
    const p = normalizePath(path);
    this.gate("unlink");
    if (!this.#names.delete(p)) throw diskError("ENOENT", `no such file ${p}`);
    this.#dirOp({ kind: "unlink", path: p });
  }

  async list(path: string): Promise<string[]> {
    const dir = normalizePath(path);
    this.gate("list");
    if (!this.#dirs.has(dir)) throw diskError("ENOENT", `no directory ${dir}`);
    const names: string[] = [];
    for (const p of [...this.#names.keys(), ...this.#dirs]) {
      if (p !== dir && parentOf(p) === dir) names.push(baseName(p));
    }
    return names;
  }

  async mkdir(path: string): Promise<void> {
    this.gate("open");
    // Directories are modelled as durable as soon as they exist (see wal-format.md §7).
    for (let p = normalizePath(path); !this.#dirs.has(p); p = parentOf(p)) this.#dirs.add(p);
  }

  async exists(path: string): Promise<boolean> {
    this.gate("open");
    const p = normalizePath(path);
    return this.#names.has(p) || this.#dirs.has(p);
  }

  crash(options: CrashOptions = {}): void {
    const torn = options.tornWrites ?? true;
    const reorder = options.reorder ?? false;
    for (const ops of this.#dirOps.values()) {
      const survive = this.#prng.int(ops.length + 1);
      for (const op of ops.slice(0, survive)) applyDirOp(this.#durableNames, op);
    }
    this.#dirOps.clear();
    const seen = new Set<Inode>();
    for (const inode of [...this.#names.values(), ...this.#durableNames.values()]) {
      if (seen.has(inode)) continue;
      seen.add(inode);
      const image = inode.durable.clone();
      const lastWrite = inode.pending.findLastIndex((p) => p.kind === "write");
      inode.pending.forEach((pending, k) => {
        if (pending.kind === "truncate") {
          if (reorder && this.#prng.chance(0.5)) image.truncate(pending.length);
        } else if (k === lastWrite ? torn : reorder) {
          this.#persistSome(image, pending.data, pending.position);
        }
      });
      inode.durable = image;
      inode.current = image.clone();
      inode.pending = [];
    }
    this.#names = new Map(this.#durableNames);
    this.#epoch++;
    this.#cutAt = undefined;
    this.#failures = [];
    this.#shift = undefined;
  }

  kill(): void {
    this.#epoch++;
    this.#cutAt = undefined;
    this.#failures = [];
    this.#shift = undefined;
  }

  /** Persists a random selection of the sectors `data` covers (none, all, a prefix, or any subset). */
  #persistSome(image: ByteBuffer, data: Uint8Array, position: number): void {
    const style = this.#prng.int(4);
    const sector = this.#sector;
    const first = Math.floor(position / sector);
    const last = Math.floor((position + data.length - 1) / sector);
    const prefixEnd = first + this.#prng.int(last - first + 2);
    for (let s = first; s <= last; s++) {
      const keep =
        style === 0
          ? false
          : style === 1
            ? true
            : style === 2
              ? s < prefixEnd
              : this.#prng.chance(0.5);
      if (!keep) continue;
      const from = Math.max(position, s * sector);
      const to = Math.min(position + data.length, (s + 1) * sector);
      image.write(data.subarray(from - position, to - position), from);
    }
  }

  powerCutAfter(n: number): void {
    this.#cutAt = this.#mutations + n;
  }

  failNext(code: "EIO" | "ENOSPC", op?: DiskOp): void {
    this.#failures.push({ code, op });
  }

  misdirectNext(shift?: number): void {
    this.#shift = shift ?? "random";
  }

  flipBit(path: string, offset?: number, bit?: number): number {
    const inode =
      this.#names.get(normalizePath(path)) ?? this.#durableNames.get(normalizePath(path));
    if (inode === undefined || inode.current.size === 0) {
      throw new Error(`flipBit: ${path} is missing or empty`);
    }
    const at = offset ?? this.#prng.int(inode.current.size);
    if (!Number.isInteger(at) || at < 0 || at >= inode.current.size) {
      throw new Error(`flipBit: offset ${at} is outside ${path} (${inode.current.size} bytes)`);
    }
    const mask = 1 << (bit ?? this.#prng.int(8));
    inode.current.flip(at, mask);
    if (at < inode.durable.size) inode.durable.flip(at, mask);
    return at;
  }

  peek(path: string): Uint8Array | undefined {
    const inode = this.#names.get(normalizePath(path));
    return inode?.current.read(inode.current.size, 0);
  }

  #dirOp(op: DirOp): void {
    const dir = parentOf(op.kind === "rename" ? op.from : op.path);
    const ops = this.#dirOps.get(dir);
    if (ops === undefined) this.#dirOps.set(dir, [op]);
    else ops.push(op);
  }
}

function applyDirOp(names: Map<string, Inode>, op: DirOp): void {
  if (op.kind === "link") names.set(op.path, op.inode);
  else if (op.kind === "unlink") names.delete(op.path);
  else {
    names.delete(op.from);
    names.set(op.to, op.inode);
  }
}

/**
 * Creates a {@link FaultyDisk}: an in-memory disk with a page-cache model (durable vs. pending
 * bytes per file, durable vs. pending directory entries) and on-demand faults.
 */
export function createFaultyDisk(options: FaultyDiskOptions): FaultyDisk {
  return new FaultyDiskImpl(options);
}
