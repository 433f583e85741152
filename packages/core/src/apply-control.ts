import type { RaftCore } from "./node";
import { RaftState } from "./types";

/**
 * Pausing and resuming the apply stream (spec §5.13) and overrun protection (spec §5.12).
 *
 * While paused, commits learned from the leader only raise `hcommit`; nothing new is handed to
 * the upper layer, and the node does not campaign. Resuming commits up to `hcommit`.
 */

/** `pauseApply()`: refused on a leader (and when closed). A candidate steps down first. */
export function pauseApply(node: RaftCore): boolean {
  if (node.state === RaftState.Closed || node.state === RaftState.Leader) return false;
  if (node.state === RaftState.Candidate) node.becomeFollower("");
  node.paused = true;
  node.hcommit = Math.max(node.hcommit, node.commit);
  node.armElectionTimer(node.timing.observerTimeoutMs);
  return true;
}

/** `resumeApply()`: commit up to the highest commit seen while paused, then campaign if asked. */
export function resumeApply(node: RaftCore): boolean {
  if (node.state === RaftState.Closed || !node.paused) return false;
  node.paused = false;
  node.applyLimit = undefined;
  node.commitTo(Math.min(node.hcommit, node.log.lastIndex));
  node.hcommit = 0;
  // A leader transfer that named us while paused is honoured now (spec §5.13).
  if (node.transferPending) node.armElectionTimer(node.timing.leaderTransferCampaignMs);
  else node.resetElectionTimer();
  return true;
}

/**
 * `drainAndReplaySnapshot()`: pause, cancel catchup, and hand the newest snapshot to the upper
 * layer again as a committed entry; everything after it is re-delivered on `resumeApply()`. The
 * commit index is kept (DrainAndReplaySnapshot: highest commit preserved). Refused without a
 * snapshot, on a leader and when closed.
 */
export function drainAndReplaySnapshot(node: RaftCore): boolean {
  const snap = node.snap;
  if (snap === undefined || !pauseApply(node)) return false;
  node.cancelCatchup();
  // The commit index itself never goes back: delivery is held at the snapshot instead.
  node.applyLimit = snap.index;
  node.delivered = snap.index - 1;
  node.snapshotDelivery = snap;
  return true;
}

/** A follower learned that the leader committed up to `commit`. */
export function learnCommit(node: RaftCore, commit: number): void {
  const upTo = Math.min(commit, node.log.lastIndex);
  if (node.paused) node.hcommit = Math.max(node.hcommit, upTo);
  else node.commitTo(upTo);
}

/** Unapplied committed entries, floored at the last snapshot. */
function applyLag(node: RaftCore): number {
  return node.commit - Math.max(node.appliedIndex, node.log.baseIndex);
}

/**
 * Leader overrun (spec §5.12): past the limit of uncommitted or unapplied entries a proposal makes
 * the leader step down (without a transfer). Returns true when it stepped down.
 */
export function leaderOverrun(node: RaftCore): boolean {
  const limit = node.limits.overrunEntries;
  if (node.log.lastIndex - node.commit <= limit && applyLag(node) <= limit) return false;
  node.becomeFollower("");
  return true;
}

/**
 * Follower overrun (spec §5.12): more than the limit committed but unapplied pauses quorum
 * participation (append entries are dropped, catchup cancelled) until the lag is at most the resume
 * threshold. Returns true while paused.
 */
export function followerQuorumPaused(node: RaftCore): boolean {
  const lag = applyLag(node);
  if (node.quorumPaused) {
    if (lag <= node.limits.overrunResumeEntries) node.quorumPaused = false;
  } else if (lag > node.limits.overrunEntries) {
    node.quorumPaused = true;
    node.cancelCatchup();
  }
  return node.quorumPaused;
}
