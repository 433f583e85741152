import { type AppendEntry, type AppendEntryResponse, type Entry, EntryType } from "@raft/codec";
import { BATCH_BYTES_MAX, BATCH_ENTRIES_MAX, CATCHUP_BYTES_MAX } from "./config";
import { encodeMembership } from "./membership";
import type { RaftCore } from "./node";
import { snapshotMessage } from "./snapshot";
import { RaftState } from "./types";
import { bytesOfAscii } from "./wire";

/**
 * Leader behaviour (spec §5.5, §5.6, §5.8, §5.11): the election no-op, proposal batching,
 * heartbeats, append-entry responses and the commit rule, lost-quorum step-down, leader transfer
 * and the simple catchup stream.
 */

const EMPTY_REPLY = new Uint8Array(0);

/** Won the election: lead, and replicate a peer-state entry as the no-op (spec §5.5). */
export function becomeLeader(node: RaftCore): void {
  node.state = RaftState.Leader;
  node.setLeader(node.id);
  node.transferPending = false;
  node.acks.clear();
  node.pendingEntries = [];
  node.pendingReplies = [];
  node.leaderReady = false;
  for (const p of node.peerState.values()) p.li = 0;
  node.out.subscribe.push(node.subjects.proposal, node.subjects.removePeer);
  node.quorumCheckAt = node.now + node.timing.lostQuorumCheckMs;
  const noop: Entry = { type: EntryType.PeerState, data: encodeMembership(node) };
  node.noopIndex = sendAppendEntry(node, [noop]);
}

/** Queue entries for the next batch; `proposeMulti` groups stay in one append entry if they fit. */
export function queueEntries(node: RaftCore, entries: readonly Entry[]): void {
  node.pendingEntries.push(entries as Entry[]);
}

/** Turn queued proposals into append entries of ≤ 256 KiB and ≤ 4,096 entries each (spec §4). */
export function flushProposals(node: RaftCore): void {
  const groups = node.pendingEntries;
  if (groups.length > 0) {
    node.pendingEntries = [];
    let batch: Entry[] = [];
    let bytes = 0;
    for (const group of groups) {
      let groupBytes = 0;
      for (const e of group) groupBytes += e.data.length + 1;
      const full =
        batch.length + group.length > BATCH_ENTRIES_MAX || bytes + groupBytes > BATCH_BYTES_MAX;
      if (full && batch.length > 0) {
        sendAppendEntry(node, batch);
        batch = [];
        bytes = 0;
      }
      for (const e of group) batch.push(e);
      bytes += groupBytes;
    }
    if (batch.length > 0) sendAppendEntry(node, batch);
  }
  // HEAD answers forwarded proposals that carried a reply subject, once they are queued.
  for (const reply of node.pendingReplies) {
    node.send(reply, "", { kind: "proposalReply" }, EMPTY_REPLY, false);
  }
  node.pendingReplies = [];
}

/**
 * Build and broadcast an append entry. With entries it is stored as the next index and its
 * returned; a heartbeat (no entries) is not stored and returns the last index. Append entries may
 * leave before our own write is durable: our own acknowledgement waits for `advance`.
 */
export function sendAppendEntry(
  node: RaftCore,
  entries: readonly Entry[],
  reply: string = node.subjects.appendEntryReply,
): number {
  const ae: AppendEntry = {
    leader: node.id,
    term: node.term,
    commit: node.commit,
    pterm: node.log.lastTerm,
    pindex: node.log.lastIndex,
    entries,
    lterm: 0,
  };
  const data = node.encode(ae);
  let index = node.log.lastIndex;
  if (entries.length > 0) index = node.appendRecord(ae, data);
  node.send(
    node.subjects.appendEntry,
    reply,
    { kind: "appendEntry", appendEntry: ae },
    data,
    false,
  );
  node.lastSentAt = node.now;
  return index;
}

/** Send an empty append entry: keeps followers' timers quiet and carries the commit index. */
export function sendHeartbeat(node: RaftCore): void {
  // While a read round runs, heartbeats ask on its inbox: a lost round heartbeat is retried.
  sendAppendEntry(node, [], node.readRound?.inbox ?? node.subjects.appendEntryReply);
}

/** Handle an append-entry response (spec §5.8). */
export function processAppendEntryResponse(
  node: RaftCore,
  ar: AppendEntryResponse,
  reply: string,
): void {
  const peer = node.peerState.get(ar.peer);
  if (peer !== undefined) peer.lastSeen = node.now;
  if (node.state !== RaftState.Leader) return;
  if (peer === undefined) node.trackUnknownPeer(ar.peer);
  if (ar.success) {
    if (peer === undefined) return;
    if (ar.index > peer.li) peer.li = ar.index;
    trackResponse(node, ar);
    return;
  }
  if (reply.startsWith("$NRG.CR.")) {
    if (peer !== undefined) streamCatchup(node, ar, reply);
    return;
  }
  if (ar.term > node.term) {
    // A follower knows a newer term: step down, keep the log (NoResetOnAppendEntryResponse).
    node.setTerm(ar.term);
    node.becomeFollower("");
  }
}

function trackResponse(node: RaftCore, ar: AppendEntryResponse): void {
  if (ar.index <= node.commit) return;
  // Raft §5.4.2: only entries of the current term are committed by counting replicas.
  if (ar.term !== node.term && !node.faults.commitOlderTermByCount) return;
  // The response is about our entry only if our log holds the same term at that index.
  if (node.log.term(ar.index) !== ar.term) return;
  let set = node.acks.get(ar.index);
  if (set === undefined) {
    set = new Set();
    node.acks.set(ar.index, set);
  }
  set.add(ar.peer);
  maybeCommitAsLeader(node);
}

/**
 * Commit the highest index acknowledged by a quorum. Our own acknowledgement counts only for
 * indexes the shell reported durable (`stableLast`).
 */
export function maybeCommitAsLeader(node: RaftCore): void {
  let best = node.commit;
  // A leader outside its own peer set (removing itself) does not count itself.
  const self = (index: number): number => (node.selfMember && index <= node.stableLast ? 1 : 0);
  for (const [index, set] of node.acks) {
    if (index <= best) continue;
    if (members(node, set) + self(index) >= node.qn) best = index;
  }
  if (
    node.qn <= 1 &&
    node.selfMember &&
    node.stableLast > best &&
    node.log.term(node.stableLast) === node.term
  ) {
    best = node.stableLast;
  }
  if (best <= node.commit) return;
  node.commitTo(best);
  for (const index of node.acks.keys()) if (index <= best) node.acks.delete(index);
  // Let followers learn the new commit now unless a batch is about to carry it anyway.
  if (node.pendingEntries.length === 0 && node.peerState.size > 0) sendHeartbeat(node);
}

/**
 * Acknowledgements from current members only: after a removal shrinks the quorum, the removed
 * peer's earlier acknowledgements must not count toward the new configuration's majority.
 */
function members(node: RaftCore, acks: ReadonlySet<string>): number {
  let n = 0;
  for (const p of acks) if (node.peerState.has(p)) n++;
  return n;
}

/** Step down when fewer than a quorum were heard from recently (spec §5.6). */
export function checkLostQuorum(node: RaftCore): void {
  node.quorumCheckAt = node.now + node.timing.lostQuorumCheckMs;
  if (!node.quorum()) node.becomeFollower("");
}

/**
 * `StepDown(preferred?)` (spec §5.11): pick a live successor (the preferred one if it qualifies),
 * replicate a `LeaderTransfer` naming it, then follow nobody. The vote is kept.
 */
export function stepDownLeader(node: RaftCore, preferred: string | undefined): void {
  const window = 3 * node.timing.heartbeatIntervalMs;
  const live = (id: string): boolean => {
    const p = node.peerState.get(id);
    return p !== undefined && p.lastSeen > 0 && node.now - p.lastSeen <= window;
  };
  let successor = "";
  if (preferred !== undefined && live(preferred)) successor = preferred;
  else for (const id of node.peerState.keys()) if (live(id)) successor = successor || id;
  flushProposals(node);
  if (successor !== "") {
    sendAppendEntry(node, [{ type: EntryType.LeaderTransfer, data: bytesOfAscii(successor) }]);
  }
  node.becomeFollower("");
}

/**
 * Simple catchup (part 1 of spec §5.10): stream our stored append entries after the follower's
 * last index to its catchup inbox, re-encoded with `lterm`, at most 2 MiB per request. The follower
 * re-requests when it is still behind. When the follower's last entry is not ours, start one index
 * earlier so that its conflict handling can walk back.
 */
function streamCatchup(node: RaftCore, ar: AppendEntryResponse, inbox: string): void {
  const log = node.log;
  let start = ar.index + 1;
  if (ar.index > 0 && log.term(ar.index) !== ar.term) start = ar.index;
  let bytes = 0;
  if (start < log.firstIndex()) {
    // Behind our compacted log: the snapshot goes first, as [Snapshot, PeerState] (spec §5.10).
    const snap = node.snap;
    if (snap === undefined) return;
    bytes += sendCatchup(node, inbox, snapshotMessage(node, snap));
    start = snap.index + 1;
  }
  for (let i = start; i <= log.lastIndex && bytes < CATCHUP_BYTES_MAX; i++) {
    const stored = log.entry(i);
    if (stored === undefined) return;
    bytes += sendCatchup(node, inbox, { ...stored, lterm: node.term });
  }
}

/** Send one catchup message to `inbox`; returns its size. */
function sendCatchup(node: RaftCore, inbox: string, ae: AppendEntry): number {
  const data = node.encode(ae);
  const frame = { kind: "appendEntry", appendEntry: ae } as const;
  node.send(inbox, node.subjects.appendEntryReply, frame, data, false);
  return data.length;
}
