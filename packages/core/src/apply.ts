import { type Entry, EntryType } from "@raft/codec";
import { COMMITTED_PER_READY_MAX } from "./config";
import { RaftCoreError } from "./errors";
import type { RaftCore } from "./node";
import type { RaftLog } from "./raft-log";
import type { CommittedEntry } from "./types";

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

const EMPTY_ENTRIES: readonly Entry[] = Object.freeze([]) as readonly Entry[];

/**
 * The committed entries not yet handed out, at most {@link COMMITTED_PER_READY_MAX} indexes, in
 * index order (spec §5.9). Peer-state and leader-transfer entries are consumed by Raft itself and
 * not passed up; an index without entries for the upper layer still appears, with none.
 */
export function collectCommitted(node: RaftCore): readonly CommittedEntry[] {
  if (node.commit <= node.delivered) return EMPTY_ENTRIES as readonly never[];
  const upTo = Math.min(node.commit, node.delivered + COMMITTED_PER_READY_MAX);
  const out: CommittedEntry[] = [];
  for (let i = node.delivered + 1; i <= upTo; i++) {
    const ae = node.log.entry(i);
    if (ae === undefined) {
      // Never skip a committed index: the upper layer would silently diverge.
      throw new RaftCoreError(
        "LOG_UNREADABLE",
        `committed index ${i} is missing from the log view or does not decode`,
      );
    }
    out.push({ index: i, entries: forUpperLayer(ae.entries) });
  }
  node.delivered = upTo;
  return out;
}

function forUpperLayer(entries: readonly Entry[]): readonly Entry[] {
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
