import { type AppendEntryResponse, newInbox, replySubject } from "@raft/codec";
import { sendAppendEntry } from "./leader";
import type { RaftCore } from "./node";
import { RaftState } from "./types";

/**
 * Linearizable read barrier (Raft thesis §6.4 "ReadIndex", adapted to NRG): a leader confirms it
 * still leads by a heartbeat round on a fresh reply inbox. Only a response arriving on that inbox
 * was necessarily sent after the round began, so a delayed acknowledgement from before a newer
 * leader's election can never confirm a read. A follower that moved to a newer term answers the
 * heartbeat with a failure, so a deposed leader never reaches a quorum and its reads fail when it
 * steps down.
 */

/** A read waiting for, or riding on, a confirmation round. */
export interface PendingRead {
  readonly id: string;
  /** Commit index at the time of the request (at least the election no-op). */
  readonly index: number;
}

/** One confirmation round: its reply inbox, the peers that answered it, the reads it confirms. */
export interface ReadRound {
  readonly inbox: string;
  readonly acks: Set<string>;
  readonly reads: readonly PendingRead[];
}

/** `readIndex` input: queue the read and start a round if none is running. */
export function requestRead(node: RaftCore, id: string): void {
  if (node.state === RaftState.Closed) {
    node.out.reads.push({ id, index: 0, code: "CLOSED" });
    return;
  }
  if (node.state !== RaftState.Leader) {
    node.out.reads.push({ id, index: 0, code: "NOT_LEADER" });
    return;
  }
  const read: PendingRead = { id, index: Math.max(node.commit, node.noopIndex) };
  if (node.faults.serveReadsWithoutQuorum) {
    // Planted bug (test only): no confirmation, so a deposed leader answers from stale state.
    node.out.reads.push({ id, index: node.commit });
    return;
  }
  node.readQueue.push(read);
  startReadRound(node);
}

/**
 * Start a round for every queued read unless one is running. A single-node group confirms at
 * once: it is its own quorum.
 */
export function startReadRound(node: RaftCore): void {
  if (node.readRound !== undefined || node.readQueue.length === 0) return;
  const reads = node.readQueue;
  node.readQueue = [];
  if (node.qn <= 1) {
    for (const r of reads) node.out.reads.push({ id: r.id, index: r.index });
    return;
  }
  const inbox = replySubject(newInbox(node.random));
  node.readRound = { inbox, acks: new Set(), reads };
  node.out.subscribe.push(inbox);
  sendAppendEntry(node, [], inbox);
}

/** A response on the current round's inbox: count it, confirm the round at quorum. */
export function readResponse(node: RaftCore, ar: AppendEntryResponse): void {
  const round = node.readRound;
  if (round === undefined || node.state !== RaftState.Leader || !ar.success) return;
  if (!node.peerState.has(ar.peer)) return;
  round.acks.add(ar.peer);
  // A leader removing itself is not a member: it does not count itself.
  if (round.acks.size + (node.selfMember ? 1 : 0) < node.qn) return;
  node.readRound = undefined;
  node.out.unsubscribe.push(round.inbox);
  for (const r of round.reads) node.out.reads.push({ id: r.id, index: r.index });
  startReadRound(node);
}

/** Leadership ended (or the node closed): every waiting read fails. */
export function failReads(node: RaftCore, code: "NOT_LEADER" | "CLOSED"): void {
  const round = node.readRound;
  const waiting = round === undefined ? node.readQueue : [...round.reads, ...node.readQueue];
  if (round !== undefined) node.out.unsubscribe.push(round.inbox);
  node.readRound = undefined;
  node.readQueue = [];
  for (const r of waiting) node.out.reads.push({ id: r.id, index: 0, code });
}
