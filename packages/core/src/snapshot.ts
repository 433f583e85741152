import {
  type AppendEntry,
  decodePeerState,
  EntryType,
  encodePeerState,
  type PeerState,
} from "@raft/codec";
import { repairBySnapshot } from "./damage";
import { adoptPeerState, encodeMembership, memberIds } from "./membership";
import type { RaftCore } from "./node";
import type { LogView, SnapshotRecord, SnapshotResult } from "./types";

/**
 * Snapshots (spec §5.9, §5.10): the upper layer's own snapshot at its applied index, the start-up
 * restore, and a leader's snapshot streamed to a follower behind the compacted log.
 */

/**
 * The peer state a snapshot records: the committed membership, i.e. the current one with a change
 * still in flight reverted (SnapshotExcludesUncommittedMembershipChange).
 */
export function committedPeerState(node: RaftCore): Uint8Array {
  const c = node.membChange;
  if (c === undefined) return encodeMembership(node);
  const ids = new Set(memberIds(node));
  if (c.add) ids.delete(c.peer);
  else ids.add(c.peer);
  return encodePeerState({ clusterSize: ids.size, peers: [...ids], extState: 0 });
}

/** Adopt an encoded peer state wholesale; bytes that do not decode change nothing. */
export function applyPeerStateBytes(node: RaftCore, bytes: Uint8Array): void {
  let ps: PeerState;
  try {
    ps = decodePeerState(bytes);
  } catch {
    return;
  }
  adoptPeerState(node, ps);
}

/**
 * Start-up consistency between the snapshot and the stored log (spec §5.9 `setupLastSnapshot`,
 * WAL replay): records at or below the snapshot are compacted away; a log with a gap after the
 * snapshot, or one ending below it, is dropped entirely (the log continues at `index + 1`).
 */
export function startupCompaction(node: RaftCore, view: LogView, snap: SnapshotRecord): void {
  const out = node.out;
  const first = view.firstIndex();
  const last = view.lastIndex();
  if (node.log.resetAtStart && last >= first && first > snap.index + 1) {
    // A gap after the snapshot: nothing stored is usable.
    out.truncateAfter = first - 1;
  }
  if (first <= snap.index || node.log.resetAtStart) out.compactOnly(snap.index + 1);
}

/**
 * `installSnapshot(data)` from the upper layer, at its applied index (spec §5.9), or at `index`
 * (≤ applied) for a checkpoint taken earlier.
 */
export function installOwnSnapshot(
  node: RaftCore,
  data: Uint8Array,
  index: number = node.appliedIndex,
): SnapshotResult {
  const term = index <= node.appliedIndex ? node.log.term(index) : undefined;
  // A second snapshot at the same applied index is a no-op (IgnoreDoubleSnapshot).
  if (index <= node.log.baseIndex || term === undefined) {
    return { ok: false, code: "NOTHING_APPLIED" };
  }
  const snap: SnapshotRecord = { term, index, peerState: committedPeerState(node), data };
  node.snap = snap;
  node.log.compact(index, term);
  node.out.compact(snap, index + 1);
  return { ok: true, index };
}

/** A catchup message carrying a leader's snapshot: exactly `[Snapshot, PeerState]` (spec §5.7). */
export function isSnapshotMessage(ae: AppendEntry): boolean {
  const [a, b] = ae.entries;
  return (
    ae.entries.length === 2 && a?.type === EntryType.Snapshot && b?.type === EntryType.PeerState
  );
}

/** The catchup message a leader sends first to a follower behind its compacted log (spec §5.10). */
export function snapshotMessage(node: RaftCore, snap: SnapshotRecord): AppendEntry {
  return {
    leader: node.id,
    term: node.term,
    commit: node.commit,
    pterm: snap.term,
    pindex: snap.index,
    entries: [
      { type: EntryType.Snapshot, data: snap.data },
      { type: EntryType.PeerState, data: snap.peerState },
    ],
    lterm: node.term,
  };
}

/**
 * A follower installs a leader's snapshot received during catchup (spec §5.7 step 11): the log is
 * replaced by it (a divergent suffix dropped; everything covered is committed, so nothing
 * committed is lost), the peer state adopted, commit raised to it, and the snapshot saved and
 * delivered to the upper layer as a committed entry.
 */
export function installLeaderSnapshot(node: RaftCore, ae: AppendEntry): void {
  const [data, peers] = ae.entries;
  if (data === undefined || peers === undefined) return;
  const log = node.log;
  const snap: SnapshotRecord = {
    term: ae.pterm,
    index: ae.pindex,
    peerState: peers.data,
    data: data.data,
  };
  if (repairBySnapshot(node, snap)) return;
  if (log.term(ae.pindex) === ae.pterm || ae.pindex <= node.commit) return;
  if (log.lastIndex > snap.index) node.truncateLog(snap.index);
  log.resetTo(snap.index, snap.term);
  // Every record we had is gone, damaged ones included.
  node.damage.clear();
  node.out.compact(snap, snap.index + 1);
  node.snap = snap;
  node.snapshotDelivery = snap;
  // The snapshot's peer state is committed membership; anything we had in flight is gone.
  node.membChange = undefined;
  applyPeerStateBytes(node, snap.peerState);
  node.membershipIndex = snap.index;
  node.commitTo(snap.index);
  if (node.catchup !== undefined) {
    node.catchup.progressAt = node.now;
    node.catchup.progressIndex = log.lastIndex;
  }
}
