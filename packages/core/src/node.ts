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
import { drainAndReplaySnapshot, leaderOverrun, pauseApply, resumeApply } from "./apply-control";
import { type Checkpoint, createCheckpoint } from "./checkpoint";
import { type ResolvedTiming, resolveTiming } from "./config";
import { forgetDamageAbove, heldLostTail, initDamage, initLostTail } from "./damage";
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
import {
  applyAppended,
  commitMembership,
  encodeMembership,
  type MembershipChange,
  memberIds,
  revertAfter,
} from "./membership";
import {
  adjustBootClusterSize,
  adjustClusterSize,
  evictPeers,
  expireRescue,
  maybeAutoAdd,
  proposeMembership,
  proposeRemoval,
  replayMembership,
  rescueQuorum,
} from "./membership-requests";
import { RaftLog } from "./raft-log";
import { failReads, type PendingRead, type ReadRound, requestRead } from "./read-index";
import { ReadyBuilder } from "./ready-builder";
import { applyPeerStateBytes, installOwnSnapshot, startupCompaction } from "./snapshot";
import type {
  Frame,
  HardState,
  Inbound,
  LocalDamage,
  LogView,
  MembershipResult,
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
  SnapshotCheckpoint,
  SnapshotRecord,
  SnapshotResult,
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
  /** Asked for to repair damaged records (damage.ts): done when nothing is damaged any more. */
  readonly repair?: boolean;
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

  // Membership (membership.ts, membership-requests.ts).
  readonly managed: boolean;
  /** This node is in its own peer set. */
  selfMember: boolean;
  membChange: MembershipChange | undefined = undefined;
  /** Index of the newest membership entry applied (peer states older than it are ignored). */
  membershipIndex = 0;
  /** Removed peers and when (tick clock) their removal committed. */
  readonly removed: Map<string, number> = new Map();
  rescue: { readonly qn: number; readonly until: number } | undefined = undefined;

  // Apply control and overrun (apply-control.ts).
  readonly limits: { readonly overrunEntries: number; readonly overrunResumeEntries: number };
  paused = false;
  /** Highest commit learned while paused. */
  hcommit = 0;
  /** After `drainAndReplaySnapshot`: deliver nothing beyond this until `resumeApply`. */
  applyLimit: number | undefined = undefined;
  /** Follower overrun: append entries are dropped until the apply lag is small again. */
  quorumPaused = false;
  private writeErr: unknown = undefined;

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
  private replayTarget: number;
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

  // Read barriers (read-index.ts).
  readQueue: PendingRead[] = [];
  readRound: ReadRound | undefined = undefined;
  private readCounter = 0;

  // Snapshots (snapshot.ts).
  /** The newest snapshot (own or received), kept to send to followers behind the compacted log. */
  snap: SnapshotRecord | undefined;
  /** A snapshot to deliver to the upper layer as a committed entry before anything after it. */
  snapshotDelivery: SnapshotRecord | undefined;
  /** The open snapshot checkpoint, if any. */
  checkpoint: Checkpoint | undefined = undefined;
  /** An own snapshot was handed out and its Ready is not advanced yet (`BUSY`). */
  private snapshotInFlight = false;

  /** Damaged records not repaired yet: index → term (undefined when unknown). */
  readonly damage: Map<number, number | undefined> = new Map();
  /** The end of a log we may have acknowledged that the store lost (damage.ts `heldLostTail`). */
  lostTail: { index: number; term: number } | undefined = undefined;

  // Follower state.
  leaderLastSeen = 0;
  /** Since when an election timeout found our own removal in flight with no leader (election.ts). */
  removalWaitSince: number | undefined = undefined;
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
    this.managed = options.managed ?? true;
    this.limits = {
      overrunEntries: options.limits?.overrunEntries ?? 100_000,
      overrunResumeEntries: options.limits?.overrunResumeEntries ?? 10_000,
    };
    this.selfMember = options.peers.includes(this.id);
    this.csz = Math.max(options.clusterSize ?? 0, this.peerState.size + (this.selfMember ? 1 : 0));
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
    const snap = options.snapshot;
    this.snap = snap;
    this.snapshotDelivery = snap;
    this.log = new RaftLog(options.log, snap);
    this.initializing = this.log.lastIndex === 0;
    this.stableLast = this.log.lastIndex;
    this.out = new ReadyBuilder(options.log.lastIndex());
    if (snap !== undefined) {
      applyPeerStateBytes(this, snap.peerState);
      this.membershipIndex = snap.index;
      startupCompaction(this, options.log, snap);
    }
    // Start-up replay (spec §5.9): commit is not persisted; it is recovered from the commit
    // indexes carried by the stored append entries, and everything up to it is re-delivered
    // (after the snapshot, if any).
    this.replayTarget = Math.max(recoverCommit(this.log), snap?.index ?? 0);
    this.commit = this.replayTarget;
    // Membership entries take effect when stored: replay them over the configured peer set.
    replayMembership(this);
    if (options.damaged !== undefined && options.damaged.length > 0) {
      initDamage(this, options.damaged);
      this.replayTarget = Math.min(this.replayTarget, this.commit);
    }
    if (options.lostTail !== undefined) initLostTail(this, options.lostTail);
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
    expireRescue(this);
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
      failReads(this, "NOT_LEADER");
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
    this.applyMembershipOf(index, ae.entries);
    return index;
  }

  /** The highest index that may be handed to the upper layer now. */
  deliverable(): number {
    return this.applyLimit === undefined ? this.commit : Math.min(this.commit, this.applyLimit);
  }

  /** Membership entries take effect when stored (spec §5.7 step 13, §5.14). */
  applyMembershipOf(index: number, entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.type === EntryType.AddPeer || e.type === EntryType.RemovePeer) {
        applyAppended(this, index, entries);
        return;
      }
    }
  }

  /** Truncate the log after `index`; never below commit (Raft: committed entries are final). */
  truncateLog(index: number): void {
    if (index < this.commit) {
      throw new RaftCoreError("INVARIANT", `truncation to ${index} below commit`);
    }
    this.log.truncateAfter(index);
    this.out.truncate(index);
    revertAfter(this, index);
    forgetDamageAbove(this, index);
    if (this.stableLast > index) this.stableLast = index;
    if (this.inflight !== undefined && this.inflight.last > index) this.inflight.last = index;
  }

  /** Raise the commit index (never lowers it). */
  commitTo(index: number): void {
    if (index <= this.commit) return;
    this.commit = index;
    commitMembership(this);
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
    if (leaderOverrun(this)) return this.refuse("NOT_LEADER");
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

  processed(index: number, applied: number): RaftSize {
    if (this.state === RaftState.Closed || index > this.commit) return this.compactable();
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
    return this.compactable();
  }

  applied(index: number): RaftSize {
    return this.processed(index, index);
  }

  /** Applied entries above the snapshot, and their estimated share of the stored bytes. */
  private compactable(): RaftSize {
    const entries = Math.max(0, this.appliedIndex - this.log.baseIndex);
    const held = this.size();
    const bytes =
      held.entries > 0
        ? Math.floor((held.bytes * Math.min(entries, held.entries)) / held.entries)
        : 0;
    return { entries, bytes };
  }

  readIndex(requestId?: string): string {
    const id = requestId ?? `r${++this.readCounter}`;
    requestRead(this, id);
    return id;
  }

  installSnapshot(data: Uint8Array, force = false): SnapshotResult {
    if (this.state === RaftState.Closed) return { ok: false, code: "CLOSED" };
    if (this.checkpoint !== undefined) {
      if (!force) return { ok: false, code: "BUSY" };
      this.checkpoint.abort();
    }
    return this.installSnapshotAt(data, this.appliedIndex);
  }

  /** Own snapshot at `index` (≤ applied); shared by `installSnapshot` and checkpoints. */
  installSnapshotAt(data: Uint8Array, index: number): SnapshotResult {
    if (this.snapshotInFlight) return { ok: false, code: "BUSY" };
    const r = installOwnSnapshot(this, data, index);
    if (r.ok) this.snapshotInFlight = true;
    return r;
  }

  createSnapshotCheckpoint(force = false): SnapshotCheckpoint | undefined {
    return createCheckpoint(this, force);
  }

  proposeAddPeer(peer: string): MembershipResult {
    return proposeMembership(this, peer, true);
  }

  proposeRemovePeer(peer: string): MembershipResult {
    return proposeRemoval(this, peer);
  }

  membershipChangeInProgress(): boolean {
    return this.membChange !== undefined;
  }

  peerNames(): readonly string[] {
    return memberIds(this);
  }

  adjustClusterSize(size: number): MembershipResult {
    return adjustClusterSize(this, size);
  }

  adjustBootClusterSize(size: number): MembershipResult {
    return adjustBootClusterSize(this, size);
  }

  evictPeers(peers: readonly string[]): MembershipResult {
    return evictPeers(this, peers);
  }

  rescueQuorum(quorum: number): MembershipResult {
    return rescueQuorum(this, quorum);
  }

  inRescue(): boolean {
    return this.rescue !== undefined && this.now < this.rescue.until;
  }

  pauseApply(): boolean {
    return pauseApply(this);
  }

  resumeApply(): boolean {
    return resumeApply(this);
  }

  isPaused(): boolean {
    return this.paused;
  }

  drainAndReplaySnapshot(): boolean {
    return drainAndReplaySnapshot(this);
  }

  reportWriteError(error: unknown): void {
    if (this.state === RaftState.Closed) return;
    this.writeErr = error;
    this.close();
  }

  writeError(): unknown {
    return this.writeErr;
  }

  reset(): void {
    if (this.state === RaftState.Closed) return;
    if (this.state !== RaftState.Follower) this.becomeFollower("");
    this.cancelCatchup();
    this.setLeader("");
    this.pendingEntries = [];
    this.pendingReplies = [];
    this.acks.clear();
    this.log.resetTo(0, 0);
    this.out.wipeAll();
    this.stableLast = 0;
    if (this.inflight !== undefined) this.inflight.last = 0;
    this.commit = 0;
    this.processedIndex = 0;
    this.appliedIndex = 0;
    this.delivered = 0;
    this.hcommit = 0;
    this.applyLimit = undefined;
    this.paused = false;
    this.quorumPaused = false;
    this.snap = undefined;
    this.snapshotDelivery = undefined;
    this.checkpoint?.abort();
    this.damage.clear();
    this.lostTail = undefined;
    this.membChange = undefined;
    this.membershipIndex = 0;
    this.removed.clear();
    this.rescue = undefined;
    this.peerState.clear();
    this.selfMember = true;
    this.csz = 1;
    this.qn = 1;
    this.out.peerState = encodeMembership(this);
    this.term = 0;
    this.setVote("");
    this.initializing = true;
    this.resetElectionTimer();
  }

  /** An unknown peer was heard from (spec §5.14 trackPeer). */
  trackUnknownPeer(peer: string): void {
    maybeAutoAdd(this, peer);
  }

  // ---------------------------------------------------------------- Ready cycle

  hasReady(): boolean {
    if (this.inflight !== undefined) return false;
    return (
      this.out.pending() ||
      this.pendingEntries.length > 0 ||
      this.pendingReplies.length > 0 ||
      (this.deliverable() > this.delivered && !this.damage.has(this.delivered + 1)) ||
      this.snapshotDelivery !== undefined ||
      (!this.replayDoneSent && this.delivered >= this.replayTarget) ||
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
    if (ready.snapshot !== undefined) this.snapshotInFlight = false;
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
    // While paused (or after a drain) the highest commit learned is reported (spec §5.13).
    const commit = Math.max(this.commit, this.hcommit);
    return { index: this.log.lastIndex, commit, applied: this.appliedIndex };
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

  localDamage(): LocalDamage {
    const lostTail = heldLostTail(this);
    return { damaged: [...this.damage.keys()].sort((a, b) => a - b), lostTail };
  }

  stats(): RaftStats {
    return { droppedInvalid: this.droppedInvalid, droppedProposals: this.droppedProposals };
  }

  close(): void {
    if (this.state === RaftState.Closed) return;
    const wasLeader = this.state === RaftState.Leader;
    this.state = RaftState.Closed;
    this.checkpoint?.abort();
    failReads(this, "CLOSED");
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
  const tail = options.lostTail;
  if (
    tail !== undefined &&
    !(Number.isSafeInteger(tail.index) && tail.index >= 0 && Number.isSafeInteger(tail.term))
  ) {
    throw new RaftCoreError("INVALID_OPTIONS", "lostTail needs integer index ≥ 0 and term");
  }
}

/**
 * Create a Raft node. Pure: it reads `options.log` during start-up replay and otherwise only
 * changes in response to the inputs of {@link RaftNode}.
 * @throws RaftCoreError `INVALID_OPTIONS` for a bad id, group or timing.
 */
export function createRaftNode(options: RaftNodeOptions): RaftNode {
  return new RaftCore(options);
}
