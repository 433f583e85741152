import {
  type AppendEntry,
  type AppendEntryResponse,
  catchupSubject,
  EntryType,
  newInbox,
} from "@raft/codec";
import { followerQuorumPaused, learnCommit } from "./apply-control";
import { isDamaged, repairFrom, requestRepair } from "./damage";
import type { RaftCore } from "./node";
import { installLeaderSnapshot, isSnapshotMessage } from "./snapshot";
import { RaftState } from "./types";
import { asciiOf, encodeAER } from "./wire";

/** How an append entry reached us. */
export interface AppendEntryContext {
  /** Arrived on `$NRG.AE.<group>` (as opposed to a catchup inbox). */
  readonly isNew: boolean;
  readonly reply: string;
  /** The received bytes, stored as they are when the entry carries no catchup `lterm`. */
  readonly bytes: Uint8Array | undefined;
  /** Arrived on our active catchup inbox. */
  readonly onActiveCatchup: boolean;
}

/** Send an append-entry response to `to` (the leader's reply inbox). */
export function sendResponse(
  node: RaftCore,
  to: string,
  response: AppendEntryResponse,
  replyTo = "",
): void {
  if (to === "") return;
  // Every response reports local log state, so it leaves only after that state is durable.
  const afterPersist = !node.faults.ackBeforePersist;
  node.send(
    to,
    replyTo,
    { kind: "appendEntryResponse", response },
    encodeAER(response),
    afterPersist,
  );
}

function respond(node: RaftCore, to: string, success: boolean, term = node.log.lastTerm): void {
  sendResponse(node, to, { term, index: node.log.lastIndex, peer: node.id, success });
}

/**
 * Process one append entry, in the order of spec §5.7. Deviations, all for safety under message
 * duplication and reordering (which nats-server's transport does not produce but ours may):
 * a stale or duplicated append entry never truncates entries of its own term, and a term check
 * precedes the election-timer reset.
 */
export function processAppendEntry(node: RaftCore, ae: AppendEntry, ctx: AppendEntryContext): void {
  if (ctx.isNew && ae.leader === node.id) return;
  const lt = ae.lterm !== 0 ? ae.lterm : ae.term;
  if (!checkTerm(node, ae, lt, ctx)) return;
  if (!node.transferPending) node.resetElectionTimer();

  if (node.catchup !== undefined && ctx.isNew) {
    const c = node.catchup;
    const log = node.log;
    const stalled =
      log.lastIndex === c.progressIndex && node.now - c.progressAt > node.timing.catchupStallMs;
    const done = c.repair ? !isDamaged(node) : log.lastTerm >= c.cterm && log.lastIndex >= c.cindex;
    if (done || stalled) node.cancelCatchup();
    else return;
  }
  if (ctx.isNew) {
    // nats-server rewrites tav.idx here; our HardState holds no leader, so nothing to persist.
    if (ae.leader !== node.leaderId && ae.leader !== "") node.setLeader(ae.leader);
    node.leaderLastSeen = node.now;
    const p = node.peerState.get(ae.leader);
    if (p !== undefined) p.lastSeen = node.now;
  }

  // Overrun (spec §5.12): too far behind applying, take no part in the quorum for now.
  if (followerQuorumPaused(node)) return;
  // Damaged records are repaired before anything new is stored (damage.ts).
  if (isDamaged(node)) {
    if (ctx.isNew) {
      requestRepair(node, ae, ctx.reply);
      return;
    }
    if (repairFrom(node, ae)) return;
  }
  if (!matchLog(node, ae, ctx)) return;

  if (ae.entries.length > 0) {
    const data =
      ctx.bytes !== undefined && ae.lterm === 0 ? ctx.bytes : node.encode(storedForm(ae));
    node.appendRecord(ae, data);
    const suffix = node.deferredSuffix;
    if (suffix !== undefined) {
      node.deferredSuffix = undefined;
      for (const r of suffix) node.appendRecord(r.ae, r.data);
    }
    if (node.catchup !== undefined) {
      node.catchup.progressAt = node.now;
      node.catchup.progressIndex = node.log.lastIndex;
    }
    if (ctx.isNew) sideEffects(node, ae);
  }
  if (ae.commit > node.commit) learnCommit(node, ae.commit);
  // Catchup entries are never acknowledged (HEAD/2.11+): they must not count toward quorum.
  // The planted bug `commitOlderTermByCount` restores nats-server 2.9.10's pair of rules: catchup
  // entries are acknowledged, and the leader counts acknowledgements of older terms.
  if (ctx.isNew || node.faults.commitOlderTermByCount) respond(node, ctx.reply, true);
}

/** The form of an append entry we store: without the catchup `lterm`. */
function storedForm(ae: AppendEntry): AppendEntry {
  return ae.lterm === 0 ? ae : { ...ae, lterm: 0 };
}

/** Steps 3, 4, 6 and 7 of spec §5.7. Returns false when the entry is dropped or rejected. */
function checkTerm(node: RaftCore, ae: AppendEntry, lt: number, ctx: AppendEntryContext): boolean {
  if (node.state === RaftState.Leader) {
    if (lt < node.term) {
      if (ctx.isNew) respond(node, ctx.reply, false, node.term);
      return false;
    }
  }
  if (!ctx.isNew && !ctx.onActiveCatchup) return false;
  // A re-sent catchup entry names the leader that created it, not the sender: only a new append
  // entry tells us who leads now.
  const leader = ctx.isNew ? ae.leader : "";
  if (lt > node.term) {
    node.setTerm(lt);
    if (node.state !== RaftState.Follower) node.becomeFollower(leader);
    return true;
  }
  if (lt < node.term) {
    // nats-server ≤ 2.11.4 leaders stream catchup entries without lterm: on our own active
    // catchup inbox they are tolerated (log matching still guards them); a stale lterm is not.
    if (!ctx.isNew && ae.lterm === 0) return true;
    if (ctx.isNew) respond(node, ctx.reply, false, node.term);
    return false;
  }
  // Same term: a leader or candidate meeting the term's leader steps down; the vote is kept.
  if (node.state !== RaftState.Follower) node.becomeFollower(leader);
  return true;
}

/**
 * Log matching, step 11 of spec §5.7. Returns true when the entry should be stored (possibly after
 * truncating a conflicting suffix), false when we returned without storing.
 */
function matchLog(node: RaftCore, ae: AppendEntry, ctx: AppendEntryContext): boolean {
  const log = node.log;
  if (!ctx.isNew && isSnapshotMessage(ae)) {
    installLeaderSnapshot(node, ae);
    return false;
  }
  if (ae.pterm === log.lastTerm && ae.pindex === log.lastIndex) return true;
  if (ae.pindex > log.lastIndex) {
    if (ctx.isNew) startCatchup(node, ae, ctx.reply);
    else node.cancelCatchup();
    return false;
  }
  // We hold ae.pindex, and more or a different entry there.
  if (ae.pindex < node.commit) return false;
  const ours = log.term(ae.pindex);
  if (ours === undefined) return false;
  if (ours !== ae.pterm) {
    // Conflict at ae.pindex itself: drop it and everything after, wait for the leader to resend.
    if (ae.pindex - 1 >= node.commit) truncateConflict(node, ae.pindex - 1);
    node.cancelCatchup();
    return false;
  }
  const next = log.term(ae.pindex + 1);
  // Our entry after ae.pindex is from this very term: this is a duplicate or a stale heartbeat,
  // never a conflict; truncating here could drop entries that are already committed.
  if (next === ae.term) return false;
  truncateConflict(node, ae.pindex);
  return true;
}

function truncateConflict(node: RaftCore, after: number): void {
  if (node.faults.skipConflictTruncation && after + 1 < node.log.lastIndex) {
    // Planted bug (test only): replace the conflicting record but keep the suffix behind it.
    replaceInPlace(node, after);
    return;
  }
  node.truncateLog(after);
}

/**
 * Test-only planted bug: the record at `after + 1` will be overwritten by the caller's append and
 * the records behind it are re-appended unchanged, which breaks log matching.
 */
function replaceInPlace(node: RaftCore, after: number): void {
  const log = node.log;
  const suffix: { ae: AppendEntry; data: Uint8Array }[] = [];
  for (let i = after + 2; i <= log.lastIndex; i++) {
    const ae = log.entry(i);
    const data = log.data(i);
    if (ae !== undefined && data !== undefined) suffix.push({ ae, data });
  }
  node.truncateLog(after);
  node.deferredSuffix = suffix;
}

/**
 * Opens a catchup inbox towards the position `ae` announces and subscribes to it; returns its
 * subject. `repair`: the catchup refetches damaged records (damage.ts) rather than missing ones.
 */
export function openCatchup(node: RaftCore, ae: AppendEntry, repair: boolean): string {
  const subject = catchupSubject(newInbox(node.random));
  node.catchup = {
    subject,
    cterm: ae.pterm,
    cindex: ae.pindex,
    progressAt: node.now,
    progressIndex: node.log.lastIndex,
    ...(repair ? { repair: true } : {}),
  };
  node.out.subscribe.push(subject);
  return subject;
}

function startCatchup(node: RaftCore, ae: AppendEntry, reply: string): void {
  node.cancelCatchup();
  const subject = openCatchup(node, ae, false);
  sendResponse(
    node,
    reply,
    { term: node.log.lastTerm, index: node.log.lastIndex, peer: node.id, success: false },
    subject,
  );
}

/** Step 13 of spec §5.7 for part 1: a leader transfer naming us makes us campaign in 10 ms. */
function sideEffects(node: RaftCore, ae: AppendEntry): void {
  for (const e of ae.entries) {
    if (e.type !== EntryType.LeaderTransfer) continue;
    if (asciiOf(e.data) === node.id && !node.observer) {
      node.transferPending = true;
      // A paused node campaigns when it resumes (spec §5.7 step 13).
      if (!node.paused) node.armElectionTimer(node.timing.leaderTransferCampaignMs);
    }
  }
}
