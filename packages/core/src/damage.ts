import type { AppendEntry } from "@raft/codec";
import { openCatchup, sendResponse } from "./follower";
import type { RaftCore } from "./node";
import { isSnapshotMessage } from "./snapshot";
import type { DamagedRecord, SnapshotRecord } from "./types";

/**
 * Protocol-aware recovery of local log damage (reliability-plan §4, after CTRL, FAST'18): a record
 * whose checksum failed is never a reason to truncate, because it may be committed and our copy
 * may be part of the majority that made it so. Instead the node asks the leader for the records
 * from the first damaged one (a catchup), and overwrites each damaged record in place with the
 * leader's copy when it is the same entry (same index and term). Where the two differ our record
 * was never committed, and ordinary conflict resolution applies. Until everything is repaired the
 * node does not campaign (it could not serve what it lost); while a damaged record's term is
 * unknown it grants no votes either (it cannot tell whether a candidate is up to date).
 */

/** Record the damaged indexes reported at start-up and learn what terms we can. */
export function initDamage(node: RaftCore, damaged: readonly DamagedRecord[]): void {
  const log = node.log;
  for (const d of damaged) {
    if (d.index >= log.firstIndex() && d.index <= log.lastIndex) node.damage.set(d.index, d.term);
  }
  for (const [index, term] of node.damage) {
    // A lost header's term is the pterm of the next record, when that one is readable.
    const next = node.damage.has(index + 1) ? undefined : log.entry(index + 1);
    const known = term ?? next?.pterm;
    node.damage.set(index, known);
    if (known !== undefined) log.learnTerm(index, known);
  }
  if (node.faults.truncateAtDamage && node.damage.size > 0) {
    // Planted bug (test only): drop the damaged records and all after them, and carry on.
    const first = firstDamaged(node);
    node.damage.clear();
    node.commit = Math.min(node.commit, first - 1);
    node.truncateLog(first - 1);
  }
}

/**
 * A lost tail reported at start-up (see `RaftNodeOptions.lostTail`): kept only when it is ahead of
 * the stored log and someone else could re-send it.
 */
export function initLostTail(node: RaftCore, end: { index: number; term: number }): void {
  if (node.csz <= 1 || !isAheadOfLog(node, end) || node.faults.ignoreLostTail) return;
  node.lostTail = { index: end.index, term: end.term };
}

/**
 * The lost tail that still binds us, or `undefined`: it binds while our log is not yet at least as
 * up to date as the log we may have acknowledged. Clears it once it no longer does (the leader
 * re-sent the records, or entries of a newer term replaced them: a leader of a newer term holds
 * every committed entry, so what it did not keep was never committed).
 */
export function heldLostTail(node: RaftCore): { index: number; term: number } | undefined {
  const tail = node.lostTail;
  if (tail === undefined || isAheadOfLog(node, tail)) return tail;
  node.lostTail = undefined;
  return undefined;
}

function isAheadOfLog(node: RaftCore, end: { index: number; term: number }): boolean {
  const { lastTerm, lastIndex } = node.log;
  return end.term > lastTerm || (end.term === lastTerm && end.index > lastIndex);
}

/** Some damaged record is not repaired yet. */
export function isDamaged(node: RaftCore): boolean {
  return node.damage.size > 0;
}

/** Some damaged record's term is unknown: we cannot judge a candidate's log. */
export function hasUnknownTerm(node: RaftCore): boolean {
  for (const term of node.damage.values()) if (term === undefined) return true;
  return false;
}

function firstDamaged(node: RaftCore): number {
  let first = Number.POSITIVE_INFINITY;
  for (const index of node.damage.keys()) first = Math.min(first, index);
  return first;
}

/** The log was truncated after `index`: damage above it is gone with it. */
export function forgetDamageAbove(node: RaftCore, index: number): void {
  for (const k of [...node.damage.keys()]) if (k > index) node.damage.delete(k);
}

/**
 * A new append entry from the leader while damaged: ask for the records from the first damaged
 * one, through a catchup inbox (the leader streams them with `lterm`), unless one is running.
 */
export function requestRepair(node: RaftCore, ae: AppendEntry, reply: string): void {
  if (node.catchup !== undefined || reply === "") return;
  const prev = firstDamaged(node) - 1;
  const subject = openCatchup(node, ae, true);
  const term = node.log.term(prev) ?? 0;
  sendResponse(node, reply, { term, index: prev, peer: node.id, success: false }, subject);
}

/**
 * A catchup entry arrived while damaged. Returns true when it was consumed here (a repair, or an
 * entry we cannot link yet), false when ordinary processing should continue (no damaged record
 * at its index, or a conflict that was resolved by truncating our unrepaired, uncommitted copy).
 */
export function repairFrom(node: RaftCore, ae: AppendEntry): boolean {
  const index = ae.pindex + 1;
  // A snapshot message is not a record: `repairBySnapshot` handles it.
  if (!node.damage.has(index) || isSnapshotMessage(ae)) return false;
  const log = node.log;
  if (ae.entries.length === 0 || log.term(ae.pindex) !== ae.pterm) return true;
  const expected = node.damage.get(index);
  if (expected !== undefined && expected !== ae.term) {
    // Not the same entry: ours was never committed (the leader holds every committed entry).
    if (index - 1 < node.commit) return true;
    node.truncateLog(index - 1);
    return false;
  }
  const stored: AppendEntry = ae.lterm === 0 ? ae : { ...ae, lterm: 0 };
  const data = node.encode(stored);
  log.repair(index, ae.term, stored, data);
  node.out.repair.push({ index, term: ae.term, data });
  node.damage.delete(index);
  if (node.catchup !== undefined) {
    // Progress without a longer log: stall detection compares the last index, so keep it.
    node.catchup.progressAt = node.now;
    node.catchup.progressIndex = log.lastIndex;
  }
  // Our next record must follow the leader's: if it does not, it and the rest diverged.
  const next = node.damage.has(index + 1) ? undefined : log.entry(index + 1);
  if (next !== undefined && next.pterm !== ae.term && index >= node.commit) node.truncateLog(index);
  return true;
}

/**
 * The leader compacted past our first damaged record and sent its snapshot: it covers the damaged
 * records at or below its index, which are compacted away; our records after it are kept.
 * Returns false when the snapshot covers no damage (ordinary installation applies).
 */
export function repairBySnapshot(node: RaftCore, snap: SnapshotRecord): boolean {
  const log = node.log;
  if (!isDamaged(node) || firstDamaged(node) > snap.index || log.lastIndex < snap.index) {
    return false;
  }
  log.compact(snap.index, snap.term);
  node.out.compact(snap, snap.index + 1);
  node.snap = snap;
  for (const k of [...node.damage.keys()]) if (k <= snap.index) node.damage.delete(k);
  if (node.delivered < snap.index) node.snapshotDelivery = snap;
  node.commitTo(snap.index);
  return true;
}
