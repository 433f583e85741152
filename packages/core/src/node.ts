import {
  type AppendEntry,
  appendEntrySubject,
  type Dialect,
  type Entry,
  EntryType,
  NODE_ID_LENGTH,
  newInbox,
  proposalSubject,
  type RandomSource,
  removePeerSubject,
  replySubject,
  voteSubject,
} from "@raft/codec";
import { collectCommitted, recoverCommit } from "./apply";
import { type ResolvedTiming, resolveTiming } from "./config";
import { electionTimeout, processVoteResponse } from "./election";
import { RaftCoreError } from "./errors";
import { hasQuorum, isCurrent, peerInfos } from "./health";
import { stepInbound } from "./inbound";
import {
  checkLostQuorum,
  flushProposals,
  maybeCommitAsLeader,
  queueEntries,
  sendHeartbeat,
  stepDownLeader,
} from "./leader";
import { RaftLog } from "./raft-log";
import { ReadyBuilder } from "./ready-builder";
import type {
  Frame,
  HardState,
  Inbound,
  LogView,
  OutboundMessage,
  PeerInfo,
  ProposeResult,
  RaftNode,
  RaftNodeOptions,
  RaftProgress,
  RaftSize,
  RaftStats,
  RaftSubjects,
  Ready,
  SoftState,
  UnsafeTestingFaults,
} from "./types";
import { RaftState } from "./types";
import { encodeAE } from "./wire";

/** What the node knows about one peer (spec §5.1 peers map). */
export interface PeerProgress {
  /** Last time (tick clock) a message from the peer arrived, 0 if never. */
  lastSeen: number;
  /** Highest index the peer acknowledged while we lead. */
  li: number;
}

/** A running catchup on the follower side (spec §5.10). */
export interface CatchupState {
  /** `$NRG.CR.<inbox>` the leader streams to. */
  readonly subject: string;
  readonly cterm: number;
  readonly cindex: number;
  /** When `log.lastIndex` last moved during this catchup. */
  progressAt: number;
  progressIndex: number;
}

/**
 * The state machine behind {@link RaftNode}. Role behaviour lives in `election.ts`, `follower.ts`
 * and `leader.ts` as functions over this object; this file owns the inputs, the timers and the
 * `Ready` cycle. Fields are public for those modules only: the package exports the interface.
 */
export class RaftCore implements RaftNode {
  readonly id: string;
  readonly group: string;
  readonly subjects: RaftSubjects;
  readonly dialect: Dialect;
  readonly timing: ResolvedTiming;
  readonly faults: UnsafeTestingFaults;
  readonly random: RandomSource;
  private readonly view: LogView;

  readonly peerState: Map<string, PeerProgress> = new Map();
  csz: number;
  qn: number;

  state: RaftState = RaftState.Follower;
  term: number;
  vote: string;
  leaderId = "";
  everHadLeader = false;
  observer: boolean;
  /** A fresh node with an empty log reports its votes as non-empty (spec §6 initRaftNode). */
  initializing: boolean;

  readonly log: RaftLog;
  commit = 0;
  processedIndex = 0;
  appliedIndex = 0;
  /** Last index handed out in `Ready.committed`. */
  delivered = 0;
  private readonly replayTarget: number;
  private replayDoneSent = false;

  now: number;
  electionDeadline = 0;
  /** A leader transfer names us: campaign soon, ignore timer resets from append entries. */
  transferPending = false;

  // Leader state.
  lastSentAt = 0;
  quorumCheckAt = 0;
  readonly acks: Map<number, Set<string>> = new Map();
  pendingEntries: Entry[][] = [];
  pendingReplies: string[] = [];
  leaderReady = false;
  /** When leadership became complete (the no-op processed); undefined when not leader. */
  leaderSinceAt: number | undefined = undefined;
  /** Index of the election no-op; `isLeader()` waits until it is processed. */
  noopIndex = 0;

  /** Planted-bug support only (`skipConflictTruncation`): records to re-append after a store. */
  deferredSuffix: { ae: AppendEntry; data: Uint8Array }[] | undefined = undefined;

  // Candidate state.
  readonly votes: Set<string> = new Set();
  readonly emptyVotes: Set<string> = new Set();
  selfVoted = false;
  /** Last time a candidate signalled `isLeader=false` for lost quorum. */
  lostQuorumSignalAt = 0;

  // Follower state.
  leaderLastSeen = 0;
  catchup: CatchupState | undefined = undefined;

  /** Last index known durable in the shell's log (reported through `advance`). */
  stableLast: number;
  private persistedHardState: HardState;
  readonly out: ReadyBuilder;
  private inflight: { ready: Ready; last: number } | undefined = undefined;
  private lastSoft: SoftState;
  droppedInvalid = 0;
  droppedProposals = 0;

  constructor(options: RaftNodeOptions) {
    validate(options);
    this.id = options.id;
    this.group = options.group;
    this.dialect = options.dialect ?? "current";
    this.timing = resolveTiming(options.timing);
    this.faults = options.unsafeTestingFaults ?? {};
    this.random = options.random;
    this.now = options.now;
    for (const p of options.peers) {
      if (p !== this.id) this.peerState.set(p, { lastSeen: 0, li: 0 });
    }
    this.csz = Math.max(options.clusterSize ?? 0, this.peerState.size + 1);
    this.qn = Math.floor(this.csz / 2) + 1;
    this.observer = options.observer ?? false;
    const hs = options.hardState ?? { term: 0, vote: "" };
    this.term = hs.term;
    this.vote = hs.vote;
    this.persistedHardState = hs;
    this.subjects = {
      vote: voteSubject(this.group),
      appendEntry: appendEntrySubject(this.group),
      proposal: proposalSubject(this.group),
      removePeer: removePeerSubject(this.group),
      voteReply: replySubject(newInbox(this.random)),
      appendEntryReply: replySubject(newInbox(this.random)),
    };
    this.view = options.log;
    this.log = new RaftLog(options.log);
    this.initializing = this.log.lastIndex === 0;
    this.stableLast = this.log.lastIndex;
    this.out = new ReadyBuilder(this.log.lastIndex);
    // Start-up replay (spec §5.9): commit is not persisted; it is recovered from the commit
    // indexes carried by the stored append entries, and everything up to it is re-delivered.
    this.replayTarget = recoverCommit(this.log);
    this.commit = this.replayTarget;
    this.lastSoft = { state: this.state, leaderId: "", term: this.term };
    this.resetElectionTimer();
  }

  // ---------------------------------------------------------------- timers and randomness

  randomBetween(min: number, max: number): number {
    if (max <= min) return min;
    return min + (this.random.nextUint32() % (max - min));
  }

  resetElectionTimer(): void {
    const t = this.timing;
    this.electionDeadline = this.observer
      ? this.now + t.observerTimeoutMs
      : this.now + this.randomBetween(t.electionTimeoutMinMs, t.electionTimeoutMaxMs);
  }

  armElectionTimer(delayMs: number): void {
    this.electionDeadline = this.now + delayMs;
  }

  tick(now: number): void {
    if (this.state === RaftState.Closed || now < this.now) return;
    this.now = now;
    if (this.state === RaftState.Leader) {
      if (now >= this.quorumCheckAt) checkLostQuorum(this);
      if (
        this.state === RaftState.Leader &&
        now >= this.lastSentAt + this.timing.heartbeatIntervalMs
      ) {
        sendHeartbeat(this);
      }
      return;
    }
    if (now >= this.electionDeadline) electionTimeout(this);
  }

  nextDeadline(): number {
    if (this.state === RaftState.Closed) return Number.POSITIVE_INFINITY;
    if (this.state === RaftState.Leader) {
      return Math.min(this.quorumCheckAt, this.lastSentAt + this.timing.heartbeatIntervalMs);
    }
    return this.electionDeadline;
  }

  // ---------------------------------------------------------------- term, vote, roles

  /** Adopt a higher term: vote cleared, both persisted. */
  setTerm(term: number): void {
    if (term <= this.term) return;
    this.term = term;
    this.vote = "";
    this.out.hardStateDirty = true;
  }

  setVote(vote: string): void {
    this.vote = vote;
    this.out.hardStateDirty = true;
  }

  /** Switch to follower of `leader` (`""` for none). Leaving leadership drops its queues. */
  becomeFollower(leader: string): void {
    const wasLeader = this.state === RaftState.Leader;
    const wasCandidate = this.state === RaftState.Candidate;
    if (wasLeader) {
      this.acks.clear();
      this.pendingEntries = [];
      this.pendingReplies = [];
      this.leaderReady = false;
      this.out.unsubscribe.push(this.subjects.proposal, this.subjects.removePeer);
    }
    this.state = RaftState.Follower;
    this.setLeader(leader);
    if (wasLeader || wasCandidate) {
      this.out.leadChange = { isLeader: false, term: this.term };
    }
    this.resetElectionTimer();
  }

  setLeader(leader: string): void {
    if (leader === this.leaderId) return;
    this.leaderId = leader;
    if (leader !== "") {
      this.everHadLeader = true;
      this.leaderLastSeen = this.now;
    }
  }

  cancelCatchup(): void {
    if (this.catchup === undefined) return;
    this.out.unsubscribe.push(this.catchup.subject);
    this.catchup = undefined;
  }

  // ---------------------------------------------------------------- output helpers

  send(
    subject: string,
    reply: string,
    frame: Frame,
    data: Uint8Array,
    afterPersist: boolean,
  ): void {
    const message: OutboundMessage = { subject, reply, data, frame, afterPersist };
    this.out.messages.push(message);
  }

  /** Append one record to the log and to the pending batch; returns its index. */
  appendRecord(ae: AppendEntry, data: Uint8Array): number {
    const index = this.log.append(ae.term, ae, data);
    this.out.append.push({ index, term: ae.term, data });
    if (this.initializing && ae.entries.length > 0) this.initializing = false;
    return index;
  }

  /** Truncate the log after `index`; never below commit (Raft: committed entries are final). */
  truncateLog(index: number): void {
    if (index < this.commit) {
      throw new RaftCoreError("INVARIANT", `truncation to ${index} below commit`);
    }
    this.log.truncateAfter(index);
    this.out.truncate(index);
    if (this.stableLast > index) this.stableLast = index;
    if (this.inflight !== undefined && this.inflight.last > index) this.inflight.last = index;
  }

  /** Raise the commit index (never lowers it). */
  commitTo(index: number): void {
    if (index <= this.commit) return;
    this.commit = index;
  }

  encode(ae: AppendEntry): Uint8Array {
    return encodeAE(ae, this.dialect);
  }

  // ---------------------------------------------------------------- inputs

  step(inbound: Inbound): void {
    if (this.state === RaftState.Closed) return;
    stepInbound(this, inbound);
  }

  propose(term: number, data: Uint8Array): ProposeResult {
    return this.proposeMulti(term, [{ type: EntryType.Normal, data }]);
  }

  proposeMulti(term: number, entries: readonly Entry[]): ProposeResult {
    if (this.state === RaftState.Closed) return this.refuse("CLOSED");
    // Term fencing (spec §1): term 0 is never current for a leader, so it always fails.
    if (this.state !== RaftState.Leader || term !== this.term) return this.refuse("NOT_LEADER");
    if (entries.length > 0) queueEntries(this, entries);
    return OK;
  }

  forwardProposal(data: Uint8Array): ProposeResult {
    if (this.state === RaftState.Closed) return this.refuse("CLOSED");
    if (this.state === RaftState.Leader) return this.propose(this.term, data);
    this.send(this.subjects.proposal, "", { kind: "proposal", data }, data, false);
    return OK;
  }

  private refuse(code: "NOT_LEADER" | "CLOSED"): ProposeResult {
    return { ok: false, code, leaderId: this.leaderId };
  }

  stepDown(preferred?: string): ProposeResult {
    if (this.state === RaftState.Closed) return this.refuse("CLOSED");
    if (this.state !== RaftState.Leader) return this.refuse("NOT_LEADER");
    stepDownLeader(this, preferred);
    return OK;
  }

  campaign(): void {
    if (this.state === RaftState.Closed || this.state === RaftState.Leader || this.observer) return;
    this.armElectionTimer(this.randomBetween(this.timing.campaignMinMs, this.timing.campaignMaxMs));
  }

  campaignImmediately(): void {
    if (this.state === RaftState.Closed || this.state === RaftState.Leader || this.observer) return;
    this.initializing = false;
    this.armElectionTimer(this.timing.campaignImmediatelyMs);
  }

  setObserver(observer: boolean): void {
    if (this.state === RaftState.Closed || this.observer === observer) return;
    this.observer = observer;
    if (this.state !== RaftState.Leader) this.resetElectionTimer();
  }

  isObserver(): boolean {
    return this.observer;
  }

  processed(index: number, applied: number): void {
    if (this.state === RaftState.Closed || index > this.commit) return;
    if (index > this.processedIndex) this.processedIndex = index;
    const a = Math.min(applied, index);
    if (a > this.appliedIndex) this.appliedIndex = a;
    this.log.release(Math.min(this.appliedIndex, this.stableLast));
    // Leadership is complete once the election no-op went through the upper layer (spec §5.5).
    if (
      this.state === RaftState.Leader &&
      !this.leaderReady &&
      this.processedIndex >= this.noopIndex
    ) {
      this.leaderReady = true;
      this.leaderSinceAt = this.now;
      this.out.leadChange = { isLeader: true, term: this.term };
    }
  }

  applied(index: number): void {
    this.processed(index, index);
  }

  // ---------------------------------------------------------------- Ready cycle

  hasReady(): boolean {
    if (this.inflight !== undefined) return false;
    return (
      this.out.pending() ||
      this.pendingEntries.length > 0 ||
      this.pendingReplies.length > 0 ||
      this.commit > this.delivered ||
      !this.replayDoneSent ||
      this.softChanged()
    );
  }

  ready(): Ready {
    if (this.inflight !== undefined) {
      throw new RaftCoreError("READY_IN_FLIGHT", "advance the previous Ready first");
    }
    if (this.state === RaftState.Leader) flushProposals(this);
    const committed = collectCommitted(this);
    let replayDone = false;
    if (!this.replayDoneSent && this.delivered >= this.replayTarget) {
      replayDone = true;
      this.replayDoneSent = true;
    }
    const soft = this.softChanged() ? this.softState() : undefined;
    if (soft !== undefined) this.lastSoft = soft;
    const taken = this.out.take({ term: this.term, vote: this.vote }, committed, soft, replayDone);
    this.inflight = taken;
    return taken.ready;
  }

  advance(ready: Ready): void {
    const inflight = this.inflight;
    if (inflight === undefined || inflight.ready !== ready) {
      throw new RaftCoreError("NOT_IN_FLIGHT", "advance() needs the Ready returned by ready()");
    }
    this.inflight = undefined;
    this.stableLast = Math.min(inflight.last, this.log.lastIndex);
    if (ready.hardState !== undefined) this.persistedHardState = ready.hardState;
    if (this.state === RaftState.Closed) return;
    this.log.release(Math.min(this.appliedIndex, this.stableLast));
    if (this.state === RaftState.Candidate && !this.selfVoted) {
      // Safety: our own vote counts only once it is durable, like anyone else's.
      const hs = this.persistedHardState;
      if (hs.term === this.term && hs.vote === this.id) {
        this.selfVoted = true;
        processVoteResponse(this, { term: this.term, peer: this.id, granted: true, empty: false });
      }
    }
    if (this.state === RaftState.Leader) maybeCommitAsLeader(this);
  }

  private softChanged(): boolean {
    const s = this.lastSoft;
    return s.state !== this.state || s.leaderId !== this.leaderId || s.term !== this.term;
  }

  private softState(): SoftState {
    return { state: this.state, leaderId: this.leaderId, term: this.term };
  }

  // ---------------------------------------------------------------- queries

  isLeader(): boolean {
    return this.state === RaftState.Leader && this.leaderReady;
  }

  current(): boolean {
    return isCurrent(this);
  }

  healthy(): boolean {
    return this.current();
  }

  quorum(): boolean {
    return hasQuorum(this);
  }

  peers(): readonly PeerInfo[] {
    return peerInfos(this);
  }

  progress(): RaftProgress {
    return { index: this.log.lastIndex, commit: this.commit, applied: this.appliedIndex };
  }

  size(): RaftSize {
    const first = this.log.firstIndex();
    return { entries: Math.max(0, this.log.lastIndex - (first - 1)), bytes: this.bytes() };
  }

  private bytes(): number {
    return this.view.bytes();
  }

  clusterSize(): number {
    return this.csz;
  }

  quorumNeeded(): number {
    return this.qn;
  }

  leaderSince(): number | undefined {
    return this.isLeader() ? this.leaderSinceAt : undefined;
  }

  leaderless(): boolean {
    return this.leaderId === "";
  }

  hadPreviousLeader(): boolean {
    return this.everHadLeader;
  }

  stats(): RaftStats {
    return { droppedInvalid: this.droppedInvalid, droppedProposals: this.droppedProposals };
  }

  close(): void {
    if (this.state === RaftState.Closed) return;
    const wasLeader = this.state === RaftState.Leader;
    this.state = RaftState.Closed;
    if (wasLeader) this.out.leadChange = { isLeader: false, term: this.term };
    this.cancelCatchup();
  }
}

const OK: ProposeResult = { ok: true };

function validate(options: RaftNodeOptions): void {
  const ids = [options.id, ...options.peers];
  for (const id of ids) {
    if (id.length !== NODE_ID_LENGTH) {
      throw new RaftCoreError("INVALID_OPTIONS", `node id "${id}" is not ${NODE_ID_LENGTH} chars`);
    }
  }
  if (options.group.length === 0) throw new RaftCoreError("INVALID_OPTIONS", "group is empty");
}

/**
 * Create a Raft node. Pure: it reads `options.log` during start-up replay and otherwise only
 * changes in response to the inputs of {@link RaftNode}.
 * @throws RaftCoreError `INVALID_OPTIONS` for a bad id, group or timing.
 */
export function createRaftNode(options: RaftNodeOptions): RaftNode {
  return new RaftCore(options);
}
