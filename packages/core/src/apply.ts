import { type Entry, EntryType } from "@raft/codec";
import { COMMITTED_PER_READY_MAX } from "./config";
import { RaftCoreError } from "./errors";
import { adoptFromBytes } from "./membership-requests";
import type { RaftCore } from "./node";
import type { RaftLog } from "./raft-log";
import { type CommittedEntry, RaftState } from "./types";

/**
 * Start-up replay: the highest commit index carried by a stored append entry, capped at the last
 * index. Scans backwards and stops as soon as the index falls to the best commit seen, because an
 * append entry at index `i` always carries a commit below `i`.
 */
export function recoverCommit(log: RaftLog): number {
  let best = 0;
  const first = log.firstIndex();
  for (let i = log.lastIndex; i > best && i >= first; i--) {
    const ae = log.entry(i);
    if (ae !== undefined && ae.commit > best) best = Math.min(ae.commit, log.lastIndex);
  }
  return best;
}

const EMPTY_COMMITTED: readonly CommittedEntry[] = Object.freeze([]) as readonly never[];

/**
 * The committed entries not yet handed out, at most {@link COMMITTED_PER_READY_MAX} indexes, in
 * index order (spec §5.9). Peer-state and leader-transfer entries are consumed by Raft itself and
 * not passed up; an index without entries for the upper layer still appears, with none.
 */
export function collectCommitted(node: RaftCore): readonly CommittedEntry[] {
  const out: CommittedEntry[] = [];
  const snap = node.snapshotDelivery;
  if (snap !== undefined) {
    // A snapshot replaces everything up to its index; what it covers is never delivered.
    node.snapshotDelivery = undefined;
    if (snap.index > node.delivered) {
      out.push({ index: snap.index, entries: [{ type: EntryType.Snapshot, data: snap.data }] });
      node.delivered = snap.index;
    }
  }
  const limit = node.deliverable();
  if (limit <= node.delivered) return out.length > 0 ? out : EMPTY_COMMITTED;
  const upTo = Math.min(limit, node.delivered + COMMITTED_PER_READY_MAX);
  for (let i = node.delivered + 1; i <= upTo; i++) {
    // A damaged record waits for its repair; nothing after it may be delivered before it.
    if (node.damage.has(i)) return finish(node, out, i - 1);
    const ae = node.log.entry(i);
    if (ae === undefined) {
      // Never skip a committed index: the upper layer would silently diverge.
      throw new RaftCoreError(
        "LOG_UNREADABLE",
        `committed index ${i} is missing from the log view or does not decode`,
      );
    }
    if (node.state !== RaftState.Leader) adoptCommittedPeerStates(node, i, ae.entries);
    out.push({ index: i, entries: forUpperLayer(ae.entries) });
  }
  return finish(node, out, upTo);
}

function finish(
  node: RaftCore,
  out: CommittedEntry[],
  delivered: number,
): readonly CommittedEntry[] {
  node.delivered = Math.max(node.delivered, delivered);
  return out.length > 0 ? out : EMPTY_COMMITTED;
}

/** The entries of a record as the upper layer sees them (Raft-internal ones removed). */
export function forUpperLayer(entries: readonly Entry[]): readonly Entry[] {
  let keep = true;
  for (const e of entries) {
    if (e.type !== EntryType.Normal) {
      keep = false;
      break;
    }
  }
  if (keep) return entries;
  const out: Entry[] = [];
  for (const e of entries) {
    if (e.type === EntryType.PeerState || e.type === EntryType.LeaderTransfer) continue;
    out.push(e.type === EntryType.OldSnapshot ? { type: EntryType.Snapshot, data: e.data } : e);
  }
  return out;
}

/** Followers adopt committed peer-state entries newer than their membership (spec §5.9). */
function adoptCommittedPeerStates(node: RaftCore, index: number, entries: readonly Entry[]): void {
  for (const e of entries) if (e.type === EntryType.PeerState) adoptFromBytes(node, e.data, index);
}
