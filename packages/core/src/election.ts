import type { VoteRequest, VoteResponse } from "@raft/codec";
import { hasUnknownTerm, heldLostTail, isDamaged } from "./damage";
import { becomeLeader } from "./leader";
import type { RaftCore } from "./node";
import { RaftState } from "./types";
import { encodeVReq, encodeVResp } from "./wire";

/**
 * Elections (spec §5.4): the election timer, candidacy, vote requests and vote responses.
 */

const LOST_QUORUM_SIGNAL_MS = 20_000;

/** The election timer fired (follower or candidate). */
export function electionTimeout(node: RaftCore): void {
  const t = node.timing;
  if (node.observer) {
    node.armElectionTimer(t.observerTimeoutMs);
    return;
  }
  // A follower in a running catchup keeps waiting for its leader unless the catchup stalled
  // (spec §5.3); a stalled one is abandoned and the next timeout may start a candidacy.
  const c = node.catchup;
  if (c !== undefined) {
    const stalled =
      node.log.lastIndex === c.progressIndex && node.now - c.progressAt > t.catchupStallMs;
    if (stalled) node.cancelCatchup();
    node.resetElectionTimer();
    return;
  }
  // A paused node, or one that has not processed everything committed, may not lead yet
  // (spec §5.4).
  if (node.paused || node.processedIndex < node.commit) {
    node.armElectionTimer(Math.max(1, Math.floor(t.electionTimeoutMinMs / 4)));
    return;
  }
  // Damaged records must be repaired, and a lost tail re-sent, before we could serve as leader
  // (damage.ts).
  if (isDamaged(node) || heldLostTail(node) !== undefined) {
    node.resetElectionTimer();
    return;
  }
  // Our own removal is in flight, or a managed group does not count us: wait. (nats-server also
  // waits while its own addition is in flight; we do not: the addition is in our configuration,
  // and waiting let the checker find groups where no one could campaign.)
  const change = node.membChange;
  const removingSelf = change !== undefined && change.peer === node.id && !change.add;
  // (Our own removal in flight is also what makes us a non-member of a managed group.)
  const wait = removingSelf ? !outwaitedOwnRemoval(node) : node.managed && !node.selfMember;
  if (wait) {
    node.setLeader("");
    node.armElectionTimer(t.electionTimeoutMinMs);
    return;
  }
  switchToCandidate(node);
}

/** Election timeouts without a leader after which a node whose removal is in flight campaigns. */
const OWN_REMOVAL_WAIT_TIMEOUTS = 8;

/**
 * A node whose own removal is in flight waits for the leader that proposed it (nats-server's
 * rule). But when that leader is gone and this node holds the longest log, nobody else can be
 * elected (the checker's seed 1548: the others' logs are shorter or empty, and nats-server's
 * empty-vote rule does not let empty logs elect): after {@link OWN_REMOVAL_WAIT_TIMEOUTS}
 * maximum election timeouts without hearing from any leader, it campaigns. If it wins, it commits
 * its own removal and closes, as any leader removing itself does. Servers that committed the
 * removal ignore its vote requests (`processVoteRequest`), so a removed node that never learned
 * the outcome cannot disrupt the group it left.
 */
function outwaitedOwnRemoval(node: RaftCore): boolean {
  const since = node.removalWaitSince;
  if (since === undefined || node.leaderLastSeen > since) {
    node.removalWaitSince = node.now;
    return false;
  }
  return node.now - since >= OWN_REMOVAL_WAIT_TIMEOUTS * node.timing.electionTimeoutMaxMs;
}

/** Start a candidacy in the next term and ask everyone for votes. */
export function switchToCandidate(node: RaftCore): void {
  // A candidate that keeps failing without quorum tells the upper layer so every 20 s (spec §4).
  if (
    node.state === RaftState.Candidate &&
    node.now - node.lostQuorumSignalAt > LOST_QUORUM_SIGNAL_MS &&
    !node.quorum()
  ) {
    node.lostQuorumSignalAt = node.now;
    node.out.leadChange = { isLeader: false, term: node.term };
  }
  node.cancelCatchup();
  node.transferPending = false;
  node.quorumPaused = false;
  node.term += 1;
  node.setVote(node.id);
  node.state = RaftState.Candidate;
  node.setLeader("");
  node.votes.clear();
  node.emptyVotes.clear();
  node.selfVoted = false;
  node.resetElectionTimer();
  const request: VoteRequest = {
    term: node.term,
    lastTerm: node.log.lastTerm,
    lastIndex: node.log.lastIndex,
    candidate: node.id,
  };
  // The request leaves only after our own vote is durable: a self-vote lost in a crash could
  // otherwise be given to another candidate of the same term after restart.
  node.send(
    node.subjects.vote,
    node.subjects.voteReply,
    { kind: "voteRequest", request },
    encodeVReq(request),
    true,
  );
}

function touch(node: RaftCore, peer: string): void {
  const p = node.peerState.get(peer);
  if (p !== undefined) p.lastSeen = node.now;
  else node.trackUnknownPeer(peer);
}

/**
 * Standard Raft up-to-date rule (Raft §5.4.1), as nats-server since 2.9.15, against our log, or,
 * while a lost tail binds us, against the log we may have acknowledged (damage.ts).
 */
function candidateUpToDate(node: RaftCore, vr: VoteRequest): boolean {
  const tail = heldLostTail(node);
  const { lastTerm, lastIndex } =
    tail === undefined ? node.log : { lastTerm: tail.term, lastIndex: tail.index };
  return vr.lastTerm > lastTerm || (vr.lastTerm === lastTerm && vr.lastIndex >= lastIndex);
}

/** Handle a vote request (spec §5.4; HEAD processVoteRequest). */
export function processVoteRequest(node: RaftCore, vr: VoteRequest, reply: string): void {
  if (vr.candidate === node.id) return;
  // A server whose removal we committed is not a member: its candidacy neither moves our term
  // nor gets an answer (Raft §6: removed servers must not disrupt the group).
  if (node.removed.has(vr.candidate) && !node.peerState.has(vr.candidate)) return;
  touch(node, vr.candidate);
  if (vr.term > node.term) {
    node.cancelCatchup();
    node.setTerm(vr.term);
    if (node.state !== RaftState.Follower) node.becomeFollower("");
    else node.setLeader("");
  }
  let granted = false;
  if (vr.term === node.term) {
    const free = node.vote === "" || node.vote === vr.candidate;
    const upToDate = candidateUpToDate(node, vr);
    // With a damaged record of unknown term we cannot tell whether the candidate is up to date.
    if (free && upToDate && node.state === RaftState.Follower && !hasUnknownTerm(node)) {
      granted = true;
      node.setVote(vr.candidate);
      node.resetElectionTimer();
    } else if (!upToDate && node.state === RaftState.Follower) {
      // Our log is better than the candidate's: campaign soon ourselves (spec §1 Campaign).
      node.campaign();
    }
  }
  if (reply === "") return;
  const response: VoteResponse = {
    term: node.term,
    peer: node.id,
    granted,
    empty: node.dialect === "current" && node.log.lastIndex === 0 && !node.initializing,
  };
  node.send(
    reply,
    "",
    { kind: "voteResponse", response },
    encodeVResp(response, node.dialect),
    // Safety: a granted vote is a promise; it must be durable before anyone can count it.
    !node.faults.voteBeforePersist,
  );
}

/** Handle a vote response; our own durable self-vote comes through here too. */
export function processVoteResponse(node: RaftCore, vr: VoteResponse): void {
  if (vr.peer !== node.id) touch(node, vr.peer);
  if (vr.term > node.term) {
    node.setTerm(vr.term);
    if (node.state !== RaftState.Follower) node.becomeFollower("");
    return;
  }
  if (node.state !== RaftState.Candidate || !vr.granted || vr.term !== node.term) return;
  if (vr.peer !== node.id) {
    // Count only members, except while bootstrapping with a peer set smaller than the cluster.
    const member = node.peerState.has(vr.peer) || node.peerState.size + 1 < node.csz;
    if (!member) return;
    if (vr.empty) node.emptyVotes.add(vr.peer);
    else node.votes.add(vr.peer);
  }
  if (!node.selfVoted) return;
  // During a quorum rescue, empty-log votes count as normal ones when our log is not empty.
  const rescued = node.inRescue() && node.log.lastIndex > 0;
  // Our own vote counts only if we are a member of our configuration: a node whose own removal is
  // in flight (the only non-member that campaigns, see `outwaitedOwnRemoval`) needs a majority of
  // the members without itself, or two leaders' majorities need not overlap.
  const self = node.selfMember ? 1 : 0;
  const normal = node.votes.size + self + (rescued ? node.emptyVotes.size : 0);
  if (normal >= node.qn || normal + node.emptyVotes.size >= node.csz) becomeLeader(node);
}
