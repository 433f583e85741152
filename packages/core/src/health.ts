import type { RaftCore } from "./node";
import type { PeerInfo } from "./types";

/**
 * Health and peer views (spec §5.15), read-only over the node's state.
 */

/** Caught up with a live leader and everything committed applied; a leader always is. */
export function isCurrent(node: RaftCore): boolean {
  if (node.state === "closed" || node.commit === 0) return false;
  if (node.state === "leader") return true;
  if (node.leaderId === "" || node.catchup !== undefined) return false;
  if (node.now - node.leaderLastSeen > 2 * node.timing.heartbeatIntervalMs) return false;
  if (node.paused && node.hcommit > node.commit) return false;
  return node.commit === node.appliedIndex;
}

function heardRecently(node: RaftCore, lastSeen: number): boolean {
  return lastSeen > 0 && node.now - lastSeen <= node.timing.lostQuorumIntervalMs;
}

/** Self plus the peers heard from within the lost-quorum window reach the quorum. */
export function hasQuorum(node: RaftCore): boolean {
  let n = 1;
  for (const p of node.peerState.values()) if (heardRecently(node, p.lastSeen)) n++;
  return n >= node.qn;
}

/** Self first, then every peer: recency and, as leader, lag behind the commit index. */
export function peerInfos(node: RaftCore): readonly PeerInfo[] {
  const out: PeerInfo[] = [{ id: node.id, current: true, lastSeen: node.now, lag: 0 }];
  const leading = node.state === "leader";
  for (const [id, p] of node.peerState) {
    out.push({
      id,
      current: heardRecently(node, p.lastSeen),
      lastSeen: p.lastSeen,
      lag: leading ? Math.max(0, node.commit - p.li) : 0,
    });
  }
  return out;
}
