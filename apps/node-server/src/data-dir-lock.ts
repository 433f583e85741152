import { link, open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { toError } from "@raft/codec";
import { NodeError } from "./node-error";

/** Name of the lock file inside the data directory. */
export const LOCK_FILE_NAME: string = "LOCK";

/** The logger port of {@link acquireDataDirLock} (pino's shape). */
export interface LockLogger {
  warn(obj: object, msg: string): void;
}

/** A held data-directory lock. */
export interface DataDirLock {
  /** `<dataDir>/LOCK`. */
  readonly path: string;
  /**
   * Removes the lock file if it still names this process (never another process's lock).
   * Idempotent; never throws (a failure to remove leaves a stale lock the next start takes over).
   */
  release(): Promise<void>;
}

/** Bytes of a lock file that are read: a pid is a few; a huge garbage file is read only this far. */
const READ_LIMIT = 64;

/** Attempts at creating the file; each lost race against another starting process costs one. */
const MAX_ATTEMPTS = 5;

/**
 * Makes this process the only user of `dataDir` (which must exist): creates `<dataDir>/LOCK`
 * exclusively with this process's pid. A lock naming a live process other than this one is
 * refused; a lock whose pid is dead, is this process's own (a restart that got the same pid), or
 * that is not a pid at all is stale and is taken over, with a warning. Call it before opening any
 * store, and release the lock after closing them.
 *
 * A pid is "live" when `process.kill(pid, 0)` succeeds or fails with `EPERM` (it exists but
 * belongs to another user). Pids are reused: a stale lock whose pid now belongs to an unrelated
 * process is refused too (remove the file by hand then; the message names it).
 *
 * @throws NodeError `DATA_DIR_LOCKED` (message names the directory and the pid) when another live
 *   process holds the lock; `DATA_DIR_LOCK_FAILED` when the file cannot be created, read or
 *   replaced, or other processes keep winning the race for it.
 */
export async function acquireDataDirLock(
  dataDir: string,
  logger: LockLogger,
): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE_NAME);
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await tryCreate(path, mine)) return heldLock(path, mine);
    const content = await readLock(path);
    if (content === undefined) continue; // removed meanwhile: try again
    const pid = parsePid(content);
    if (pid !== undefined && pid !== process.pid && isAlive(pid)) {
      throw new NodeError(
        "DATA_DIR_LOCKED",
        `data directory ${dataDir} is in use by process ${pid} (lock file ${path}); ` +
          "stop that process first, or remove the file if that pid is not a node-server",
      );
    }
    if (!(await takeOver(path, content))) continue;
    logger.warn(
      {
        path,
        stalePid: pid,
        reason: pid === undefined ? "not a pid" : pid === process.pid ? "own pid" : "process gone",
      },
      "took over a stale data directory lock",
    );
  }
  throw new NodeError(
    "DATA_DIR_LOCK_FAILED",
    `could not lock data directory ${dataDir}: ${path} kept changing while ${MAX_ATTEMPTS} attempts were made`,
  );
}

/**
 * Creates the file exclusively with `content`; false when it already exists. The content is written
 * to a file of this process first and then hard-linked to `path` (which fails if `path` exists),
 * so `path` never exists half-written: with `open(path, "wx")` and a write after it, another
 * process could read an empty lock in between, judge it garbage and take it over.
 */
async function tryCreate(path: string, content: string): Promise<boolean> {
  const own = `${path}.new-${process.pid}`;
  try {
    const handle = await open(own, "w");
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    await link(own, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw lockFailed(`cannot create ${path}`, error);
  } finally {
    await unlink(own).catch(() => {});
  }
}

/** The lock file's text, or `undefined` when it is gone. */
async function readLock(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, "r");
    try {
      const buf = Buffer.alloc(READ_LIMIT);
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead).toString("latin1");
    } finally {
      await handle.close().catch(() => {});
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw lockFailed(`cannot read ${path}`, error);
  }
}

/**
 * Moves a stale lock out of the way. The move is a rename to a name unique to this process, so two
 * processes taking over at once cannot both remove it; if what was moved is no longer the stale
 * content (another process took over and locked in between), it is put back. Returns whether this
 * process removed the stale lock.
 */
async function takeOver(path: string, staleContent: string): Promise<boolean> {
  const aside = `${path}.stale-${process.pid}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false; // someone else moved it
    throw lockFailed(`cannot replace stale ${path}`, error);
  }
  const moved = await readFile(aside, "latin1").catch(() => undefined);
  const stale = moved === undefined || moved.slice(0, READ_LIMIT) === staleContent;
  if (!stale) {
    // A live lock created after we read the stale one: restore it unless a new one exists.
    await link(aside, path).catch(() => {});
  }
  await unlink(aside).catch(() => {});
  return stale;
}

function heldLock(path: string, mine: string): DataDirLock {
  let released: Promise<void> | undefined;
  return {
    path,
    release: () => {
      released ??= (async () => {
        const content = await readLock(path).catch(() => undefined);
        if (content === mine) await unlink(path).catch(() => {});
      })();
      return released;
    },
  };
}

/** A positive decimal pid on its own line; anything else is garbage. */
function parsePid(content: string): number | undefined {
  const m = /^(\d{1,10})\s*$/.exec(content);
  if (m === null) return undefined;
  const pid = Number(m[1]);
  // 0 and negative numbers address process groups in kill(2): never treat them as a pid.
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function lockFailed(what: string, error: unknown): NodeError {
  const cause = toError(error);
  return new NodeError("DATA_DIR_LOCK_FAILED", `${what}: ${cause.message}`, { cause });
}
