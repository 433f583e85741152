import { decodePeerState, EntryType, type PeerState } from "@raft/codec";
import { flushProposals, sendAppendEntry } from "./leader";
import {
  adoptPeerState,
  encodeMembership,
  memberIds,
  recomputeQuorum,
  setQuorum,
  validPeerId,
} from "./membership";
import type { RaftCore } from "./node";
import type { MembershipResult } from "./types";
import { RaftState } from "./types";
import { bytesOfAscii } from "./wire";

/**
 * The membership inputs of {@link RaftNode} (spec §1, §5.14): proposing additions and removals,
 * cluster-size adjustments, local eviction and quorum rescue, each with the spec's guards.
 */

/** A removed peer may be auto-added again after this long (spec §4). */
export const REMOVED_PEER_REJOIN_MS: number = 5 * 60_000;
/** Lifetime of a quorum rescue (spec §4). */
export const RESCUE_LIFETIME_MS: number = 5 * 60_000;

const OK: MembershipResult = { ok: true };

type Refusal = Extract<MembershipResult, { ok: false }>;

function refuse(node: RaftCore, code: Refusal["code"]): Refusal {
  return { ok: false, code, leaderId: node.leaderId };
}

/** Leader: append an AddPeer/RemovePeer, one change at a time, after the election no-op commits. */
export function proposeMembership(node: RaftCore, peer: string, add: boolean): MembershipResult {
  if (node.state === RaftState.Closed) return refuse(node, "CLOSED");
  if (!validPeerId(peer)) return refuse(node, "INVALID_PEER");
  if (node.state !== RaftState.Leader) return refuse(node, "NOT_LEADER");
  // One change at a time, and none before a commit of our own term (the single-server change
  // rule needs it: an earlier leader's uncommitted change could otherwise overlap ours).
  if (node.membChange !== undefined || node.commit < node.noopIndex) {
    return refuse(node, "IN_PROGRESS");
  }
  const member = peer === node.id ? node.selfMember : node.peerState.has(peer);
  if (add && member) return refuse(node, "ALREADY_MEMBER");
  if (!add && !member) return refuse(node, "UNKNOWN_PEER");
  if (!add && memberIds(node).length <= 1) return refuse(node, "LAST_PEER");
  flushProposals(node);
  const type = add ? EntryType.AddPeer : EntryType.RemovePeer;
  sendAppendEntry(node, [{ type, data: bytesOfAscii(peer) }]);
  return OK;
}

/** `proposeRemovePeer`: a leader proposes it, anyone else forwards it on `$NRG.RP.<group>`. */
export function proposeRemoval(node: RaftCore, peer: string): MembershipResult {
  if (node.state === RaftState.Closed) return refuse(node, "CLOSED");
  if (!validPeerId(peer)) return refuse(node, "INVALID_PEER");
  if (node.state === RaftState.Leader) return proposeMembership(node, peer, false);
  const data = bytesOfAscii(peer);
  node.send(node.subjects.removePeer, "", { kind: "removePeer", peer }, data, false);
  return OK;
}

/**
 * An unknown peer answered or asked for votes: an unmanaged group's leader proposes adding it,
 * unless it was removed less than 5 minutes ago (spec §5.14 `trackPeer`).
 */
export function maybeAutoAdd(node: RaftCore, peer: string): void {
  if (node.managed || node.state !== RaftState.Leader || peer === node.id) return;
  if (node.peerState.has(peer) || !node.leaderReady) return;
  const removedAt = node.removed.get(peer);
  if (removedAt !== undefined && node.now - removedAt < REMOVED_PEER_REJOIN_MS) return;
  proposeMembership(node, peer, true);
}

/** Leader: set the cluster size (floor 2) and replicate it as a peer-state entry. */
export function adjustClusterSize(node: RaftCore, size: number): MembershipResult {
  if (node.state === RaftState.Closed) return refuse(node, "CLOSED");
  if (node.state !== RaftState.Leader) return refuse(node, "NOT_LEADER");
  node.csz = Math.max(2, Math.floor(size));
  setQuorum(node);
  flushProposals(node);
  const index = sendAppendEntry(node, [
    { type: EntryType.PeerState, data: encodeMembership(node) },
  ]);
  node.membershipIndex = index;
  return OK;
}

/** Before any leader was seen: set the bootstrap cluster size (floor 2). */
export function adjustBootClusterSize(node: RaftCore, size: number): MembershipResult {
  if (node.state === RaftState.Closed) return refuse(node, "CLOSED");
  if (node.everHadLeader) return refuse(node, "NOT_ALLOWED");
  node.csz = Math.max(2, Math.floor(size));
  setQuorum(node);
  node.out.peerState = encodeMembership(node);
  return OK;
}

/**
 * Managed groups, while leaderless: drop `peers` from the local peer set without the log (an
 * operator's last resort when they are gone for good). Every peer must be a member other than us,
 * and we must stay a member.
 */
export function evictPeers(node: RaftCore, peers: readonly string[]): MembershipResult {
  if (node.state === RaftState.Closed) return refuse(node, "CLOSED");
  if (!node.managed || node.leaderId !== "" || node.state === RaftState.Leader) {
    return refuse(node, "NOT_ALLOWED");
  }
  if (!node.selfMember || peers.length === 0) return refuse(node, "NOT_ALLOWED");
  for (const p of peers)
    if (p === node.id || !node.peerState.has(p)) return refuse(node, "UNKNOWN_PEER");
  for (const p of peers) {
    node.peerState.delete(p);
    node.removed.set(p, node.now);
  }
  recomputeQuorum(node);
  node.out.peerState = encodeMembership(node);
  return OK;
}

/**
 * Lower the quorum to `quorum` (1..current quorum − 1) for 5 minutes: only while no leader is known,
 * for a voting member with a non-empty log. Ends early once the natural quorum is as low.
 */
export function rescueQuorum(node: RaftCore, quorum: number): MembershipResult {
  if (node.state === RaftState.Closed) return refuse(node, "CLOSED");
  const q = Math.floor(quorum);
  // A rescue at or above the natural quorum would end at once: it must lower the quorum.
  if (q < 1 || q >= node.qn) return refuse(node, "INVALID_PEER");
  if (node.leaderId !== "" || !node.selfMember || node.observer || node.log.lastIndex === 0) {
    return refuse(node, "NOT_ALLOWED");
  }
  node.rescue = { qn: q, until: node.now + RESCUE_LIFETIME_MS };
  setQuorum(node);
  return OK;
}

/** End an expired rescue; called on every tick. */
export function expireRescue(node: RaftCore): void {
  if (node.rescue !== undefined && node.now >= node.rescue.until) {
    node.rescue = undefined;
    setQuorum(node);
  }
}

/** Start-up: replay the membership entries of the stored log over the configured peer set. */
export function replayMembership(node: RaftCore): void {
  const log = node.log;
  for (let i = log.firstIndex(); i <= log.lastIndex; i++) {
    const ae = log.entry(i);
    if (ae === undefined) continue;
    for (const e of ae.entries) {
      if (e.type === EntryType.PeerState && i <= node.commit) adoptFromBytes(node, e.data, i);
    }
    node.applyMembershipOf(i, ae.entries);
  }
}

/** Adopt an encoded peer state committed at `index` when it is newer than our membership. */
export function adoptFromBytes(node: RaftCore, bytes: Uint8Array, index: number): void {
  if (index <= node.membershipIndex) return;
  let ps: PeerState;
  try {
    ps = decodePeerState(bytes);
  } catch {
    return;
  }
  node.membershipIndex = index;
  adoptPeerState(node, ps);
}
