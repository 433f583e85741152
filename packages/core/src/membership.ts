import {
  type Entry,
  EntryType,
  encodePeerState,
  NODE_ID_LENGTH,
  type PeerState,
} from "@raft/codec";
import type { PeerProgress, RaftCore } from "./node";
import { RaftState } from "./types";
import { asciiOf } from "./wire";

/**
 * Membership (spec §5.14): one AddPeer/RemovePeer at a time, applied to the peer set when it is
 * appended (so the cluster size and quorum change at once, DisjointMajorities), reverted when its
 * record is truncated, finalized (peer state persisted, removed peers remembered) when committed.
 * Peer-state entries replace the peer set wholesale when they are newer than every membership
 * change already applied.
 */

/** The membership change appended and not yet committed. */
export interface MembershipChange {
  readonly index: number;
  readonly peer: string;
  readonly add: boolean;
  /** For a removal: what we knew about the peer, restored if the removal is truncated. */
  readonly prev: PeerProgress | undefined;
  /** For a change concerning this node: whether it was a member before. */
  readonly prevSelf: boolean;
}

/** Every member, this node first when it is one. */
export function memberIds(node: RaftCore): string[] {
  return node.selfMember ? [node.id, ...node.peerState.keys()] : [...node.peerState.keys()];
}

/** The peer state of the current membership, encoded (spec §2.7). */
export function encodeMembership(node: RaftCore): Uint8Array {
  return encodePeerState({ clusterSize: node.csz, peers: memberIds(node), extState: 0 });
}

/** Cluster size and quorum from the peer set; a rescue ends once the natural quorum is as low. */
export function recomputeQuorum(node: RaftCore): void {
  node.csz = Math.max(1, node.peerState.size + (node.selfMember ? 1 : 0));
  setQuorum(node);
}

/** Quorum from `csz`, honouring an active rescue (spec §5.14 RescueQuorum). */
export function setQuorum(node: RaftCore): void {
  const natural = Math.floor(node.csz / 2) + 1;
  const rescue = node.rescue;
  if (rescue !== undefined && natural <= rescue.qn) node.rescue = undefined;
  node.qn = node.rescue !== undefined ? node.rescue.qn : natural;
}

/** Adopt a peer state wholesale (spec §5.14 `processPeerState`); dropped peers count as removed. */
export function adoptPeerState(node: RaftCore, ps: PeerState): void {
  const keep = new Set(ps.peers);
  for (const id of [...node.peerState.keys()]) {
    if (!keep.has(id)) {
      node.peerState.delete(id);
      node.removed.set(id, node.now);
    }
  }
  for (const id of ps.peers) {
    if (id !== node.id && !node.peerState.has(id)) node.peerState.set(id, { lastSeen: 0, li: 0 });
  }
  node.selfMember = keep.has(node.id) || ps.peers.length === 0;
  node.csz = Math.max(ps.clusterSize, node.peerState.size + (node.selfMember ? 1 : 0));
  setQuorum(node);
}

/**
 * Apply the membership entries of the record stored at `index` (spec §5.7 step 13): AddPeer and
 * RemovePeer take effect now and are remembered as the change in flight.
 */
export function applyAppended(node: RaftCore, index: number, entries: readonly Entry[]): void {
  for (const e of entries) {
    if (e.type !== EntryType.AddPeer && e.type !== EntryType.RemovePeer) continue;
    if (e.data.length !== NODE_ID_LENGTH) continue;
    const peer = asciiOf(e.data);
    const add = e.type === EntryType.AddPeer;
    node.membChange = {
      index,
      peer,
      add,
      prev: node.peerState.get(peer),
      prevSelf: node.selfMember,
    };
    node.membershipIndex = index;
    if (peer === node.id) node.selfMember = add;
    else if (add) {
      node.removed.delete(peer);
      if (!node.peerState.has(peer)) node.peerState.set(peer, { lastSeen: 0, li: 0 });
    } else node.peerState.delete(peer);
    recomputeQuorum(node);
  }
  if (index <= node.commit) finishChange(node);
}

/** The log was truncated after `after`: undo a change appended above it. */
export function revertAfter(node: RaftCore, after: number): void {
  const c = node.membChange;
  if (c === undefined || c.index <= after) return;
  node.membChange = undefined;
  node.membershipIndex = Math.min(node.membershipIndex, after);
  if (c.peer === node.id) node.selfMember = c.prevSelf;
  else if (c.add) node.peerState.delete(c.peer);
  else if (c.prev !== undefined) node.peerState.set(c.peer, c.prev);
  recomputeQuorum(node);
}

/**
 * Commit reached `commit`: a change at or below it is final. The peer state is persisted, a
 * removed peer remembered, and a leader that committed its own removal steps down and closes.
 */
export function commitMembership(node: RaftCore): void {
  const c = node.membChange;
  if (c === undefined || c.index > node.commit) return;
  finishChange(node);
}

function finishChange(node: RaftCore): void {
  const c = node.membChange;
  if (c === undefined) return;
  node.membChange = undefined;
  if (!c.add) node.removed.set(c.peer, node.now);
  node.out.peerState = encodeMembership(node);
  if (!c.add && c.peer === node.id && node.state === RaftState.Leader) {
    node.becomeFollower("");
    node.close();
  }
}

/** Validate an 8-character id. */
export function validPeerId(peer: string): boolean {
  return peer.length === NODE_ID_LENGTH;
}
