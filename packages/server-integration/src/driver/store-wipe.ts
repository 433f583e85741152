import type { Disk } from "@raft/wal";

/**
 * Name of the marker file a wipe leaves in the group directory while it is in progress. Its
 * presence at start-up means a `reset()` wipe was interrupted: the directory holds a partly deleted
 * log and must be wiped again before it is opened (see {@link wipeGroupDirectory}).
 */
export const WIPE_MARKER = "reset.pending";

/**
 * Name of the marker a wipe of a multi-member group leaves until the node has durably adopted the
 * group's membership again from a leader. Core's `reset()` persists a single-member peer state
 * (this node alone, cluster size 1); a node started from that alone would elect itself leader of a
 * group of one and commit on its own. While this marker exists the node runs as an observer
 * (never campaigns), across restarts too.
 */
export const REJOIN_MARKER = "rejoin.pending";

/** Sub-directories of a group store (`@raft/wal` layout, docs/design/wal-format.md §1). */
const STORE_SUBDIRS = ["log", "snapshots"] as const;

function join(dir: string, name: string): string {
  return `${dir}/${name}`;
}

/**
 * Deletes every file of a closed group store in `dir` (log segments, compaction floor,
 * snapshots, term/vote and peer state), durably, leaving the directories in place so that
 * `openGroupStore` finds an empty store (first index 1, term 0, no vote, no peer state, no
 * snapshot).
 *
 * `@raft/wal` has no wipe operation: `truncateAfter` cannot go below `firstIndex - 1`, compaction
 * never lowers the floor and a snapshot can only be replaced by a newer one, so the only way to a
 * store whose next index is 1 again is to delete its files. Crash safety comes from the marker:
 * {@link WIPE_MARKER} is created and made durable first and removed only by
 * {@link finishWipe} once the new term/vote and peer state are durable, so a crash anywhere in
 * between is seen at the next start ({@link wipePending}) and the wipe is redone instead of a
 * half-deleted log (holes, a floor without its snapshot) being opened as if it were intact.
 *
 * With `rejoin` (a multi-member group), {@link REJOIN_MARKER} is created before anything else.
 * The store must be closed first; the caller owns `dir` exclusively. Rejects with the disk's error.
 */
export async function wipeGroupDirectory(disk: Disk, dir: string, rejoin: boolean): Promise<void> {
  await disk.mkdir(dir);
  // The rejoin marker first: a crash after the wipe marker then always finds it too.
  if (rejoin && !(await rejoinPending(disk, dir))) await createMarker(disk, dir, REJOIN_MARKER);
  await createMarker(disk, dir, WIPE_MARKER);
  // Log and snapshots first, state files last: until the marker is gone nothing here is trusted,
  // but this order also keeps the old term/vote on disk for as long as anything else remains.
  for (const sub of STORE_SUBDIRS) {
    const path = join(dir, sub);
    if (!(await disk.exists(path))) continue;
    for (const name of await disk.list(path)) await disk.unlink(join(path, name));
    await disk.syncDir(path);
  }
  for (const name of await disk.list(dir)) {
    if (
      name === WIPE_MARKER ||
      name === REJOIN_MARKER ||
      (STORE_SUBDIRS as readonly string[]).includes(name)
    )
      continue;
    await disk.unlink(join(dir, name));
  }
  await disk.syncDir(dir);
}

/** Whether an interrupted wipe left its marker in `dir`. */
export function wipePending(disk: Disk, dir: string): Promise<boolean> {
  return disk.exists(join(dir, WIPE_MARKER));
}

/**
 * Ends a wipe: call once the wiped store's new term/vote and peer state are durable. Removes the
 * wipe marker durably; from then on the directory is an ordinary store again (with
 * {@link REJOIN_MARKER} still there if the wipe left one).
 */
export async function finishWipe(disk: Disk, dir: string): Promise<void> {
  await disk.unlink(join(dir, WIPE_MARKER));
  await disk.syncDir(dir);
}

/** Whether a wiped node has not yet durably adopted its group's membership. */
export function rejoinPending(disk: Disk, dir: string): Promise<boolean> {
  return disk.exists(join(dir, REJOIN_MARKER));
}

/** The wiped node's store holds a multi-member peer state again: drop {@link REJOIN_MARKER}. */
export async function finishRejoin(disk: Disk, dir: string): Promise<void> {
  await disk.unlink(join(dir, REJOIN_MARKER));
  await disk.syncDir(dir);
}

async function createMarker(disk: Disk, dir: string, name: string): Promise<void> {
  const file = await disk.open(join(dir, name), "create");
  try {
    await file.datasync();
  } finally {
    await file.close();
  }
  await disk.syncDir(dir);
}
