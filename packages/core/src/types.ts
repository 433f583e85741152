/**
 * The public types of `@raft/core`: the options a node is built from, its input ports, the `Ready`
 * batch it hands to the effectful shell, and the `RaftNode` interface itself.
 *
 * The model is etcd-io/raft's RawNode: the node is a synchronous, deterministic state machine.
 * Time enters only through {@link RaftNode.tick}, randomness only through the injected
 * {@link RandomSource}, stored log records only through the read-only {@link LogView}. Everything the
 * outside world must do (persist, send, apply) leaves through {@link Ready}, and the shell
 * acknowledges a batch with {@link RaftNode.advance} once it is done.
 *
 * The driver loop the shell runs, in this order, one `Ready` in flight at a time:
 *
 * 1. Feed inputs: `tick(now)`, `step(inbound)`, `propose(...)`, `processed(...)`.
 * 2. `if (node.hasReady()) { const rd = node.ready(); ... }`
 * 3. Send every message of `rd.messages` whose `afterPersist` is `false` (a leader's append
 *    entries and heartbeats, catchup streams, forwarded proposals): these may leave before the
 *    local write is durable.
 * 4. Persist durably (fsync): `rd.wipe`, `rd.hardState` and `rd.peerState`, then `rd.snapshot`,
 *    then `rd.truncateAfter`, then `rd.compactBefore`, then `rd.repair`, then `rd.append`.
 * 5. Only now send the messages whose `afterPersist` is `true` (vote requests, vote responses,
 *    append-entry responses): they promise something about local durable state.
 * 6. Apply `rd.committed` in order, then report `processed(index, applied)` / `applied(index)`.
 *    Answer each confirmed read of `rd.reads` once the applied index reaches its `index`.
 * 7. `node.advance(rd)`: this is how the shell reports that step 4 is durable. A leader counts
 *    its own acknowledgement of an index only after the `advance` of the batch that appended it.
 */

import type {
  AppendEntry,
  AppendEntryResponse,
  Dialect,
  Entry,
  RandomSource,
  VoteRequest,
  VoteResponse,
} from "@raft/codec";

/** The durable part of a node's state: current term and the candidate voted for in it. */
export interface HardState {
  readonly term: number;
  /** The 8-character id voted for in `term`, or `""` for no vote. */
  readonly vote: string;
}

/**
 * A read-only view of the records the shell has already persisted (the WAL), owned by the shell.
 * The node only reads it; it never assumes a record is there before the `advance` of the `Ready`
 * that appended it. Indexes are Raft indexes: one record per append entry (spec §2.2), the range
 * held is `[firstIndex(), lastIndex()]` (closed); an empty log has `lastIndex() === firstIndex() - 1`.
 * The methods must be cheap and must not throw for an index outside the range.
 */
export interface LogView {
  /** First index still stored (1 for a log that was never compacted). */
  firstIndex(): number;
  /** Last index stored, 0 when the log has never held anything. */
  lastIndex(): number;
  /** Term of the record at `index`, or `undefined` when it is not stored. */
  term(index: number): number | undefined;
  /**
   * The stored record at `index`: the encoded append entry exactly as it was handed over in
   * {@link LogRecord.data}, or `undefined` when it is not stored. The node decodes it with
   * `@raft/codec` and treats bytes that do not decode as missing.
   */
  entry(index: number): Uint8Array | undefined;
  /** Total stored bytes, reported by {@link RaftNode.size}. */
  bytes(): number;
}

/**
 * A snapshot of the upper layer's state at `index` (spec §2.8, §5.9), in the shape `@raft/wal`
 * stores it. `peerState` is the encoded committed membership at `index` (codec `encodePeerState`),
 * never an uncommitted change. The node keeps a reference to the newest one (to send it to
 * followers behind its compacted log); callers must not mutate the buffers.
 */
export interface SnapshotRecord {
  /** Term of the record at `index`. */
  readonly term: number;
  /** Last index the snapshot covers; the log continues at `index + 1`. */
  readonly index: number;
  /** Encoded peer state (spec §2.7) of the committed membership at `index`. */
  readonly peerState: Uint8Array;
  /** Opaque state-machine bytes. */
  readonly data: Uint8Array;
}

/**
 * The outcome of a linearizable read barrier started with {@link RaftNode.readIndex}. A confirmed
 * read (no `code`) may be answered once the upper layer has applied `index`. A failed read has
 * `code` set and `index` 0: retry on the leader.
 */
export interface ReadState {
  /** The id returned by `readIndex`. */
  readonly id: string;
  /** Commit index at the time of the request (at least the leader's election no-op). */
  readonly index: number;
  /**
   * `NOT_LEADER`: not leader, or leadership was lost before a quorum confirmed it (a stale leader
   * never confirms). `CLOSED`: the node is closed.
   */
  readonly code?: "NOT_LEADER" | "CLOSED";
}

/** Why a membership request was refused; see {@link MembershipResult}. */
export type MembershipRefusal =
  | "NOT_LEADER"
  | "CLOSED"
  | "IN_PROGRESS"
  | "UNKNOWN_PEER"
  | "ALREADY_MEMBER"
  | "LAST_PEER"
  | "INVALID_PEER"
  | "NOT_ALLOWED";

/** Result of the membership inputs of {@link RaftNode} (spec §5.14). */
export type MembershipResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /**
       * `NOT_LEADER`: leader-only request on a non-leader. `CLOSED`: node closed. `IN_PROGRESS`: a
       * membership change is appended and not committed yet, or the leader has not committed its
       * election no-op. `UNKNOWN_PEER`: not a member. `ALREADY_MEMBER`: adding a member.
       * `LAST_PEER`: removing the only member. `INVALID_PEER`: not an 8-character id, or a rescue
       * quorum outside `1..quorumNeeded() - 1`. `NOT_ALLOWED`: a guard of the spec refuses it (see the
       * method).
       */
      readonly code: MembershipRefusal;
      /** Known leader, `""` if none. */
      readonly leaderId: string;
    };

/**
 * An open snapshot checkpoint (spec §1 `CreateSnapshotCheckpoint`): build a snapshot off the apply
 * path from `lastSnapshot` plus `entries()`, then `install` it or `abort`.
 */
export interface SnapshotCheckpoint {
  /** The newest snapshot when the checkpoint was created, if any. */
  readonly lastSnapshot: SnapshotRecord | undefined;
  /** The applied index the checkpoint covers: `install` records the snapshot there. */
  readonly index: number;
  /**
   * The committed entries after `lastSnapshot` up to `index`, in order, as `Ready.committed`
   * delivered them. Stops early at the first record the log no longer holds (a range break).
   */
  entries(): Iterable<CommittedEntry>;
  /**
   * Record `data` as the snapshot at `index`, exactly as `installSnapshot` would (the next `Ready`
   * carries `snapshot` and `compactBefore`). `NOTHING_APPLIED` when the checkpoint was aborted or
   * a newer snapshot was recorded meanwhile; `CLOSED` when the node is closed.
   */
  install(data: Uint8Array): SnapshotResult;
  /** Give up; a later `installSnapshot` is allowed again. */
  abort(): void;
}

/** Result of {@link RaftNode.installSnapshot}. */
export type SnapshotResult =
  | { readonly ok: true; readonly index: number }
  | {
      readonly ok: false;
      /**
       * `NOTHING_APPLIED`: nothing applied beyond the current snapshot (a second snapshot at the
       * same applied index is a no-op). `CLOSED`: the node is closed. `BUSY`: a snapshot handed
       * over earlier is not durable yet, or a checkpoint is open (see `force`).
       */
      readonly code: "NOTHING_APPLIED" | "CLOSED" | "BUSY";
    };

/** Timing knobs, all in milliseconds. Defaults are nats-server's (spec §4). */
export interface RaftTiming {
  /** Election timeout is uniform in `[electionTimeoutMinMs, electionTimeoutMaxMs)`. Default 4000. */
  readonly electionTimeoutMinMs?: number;
  /** Default 9000. */
  readonly electionTimeoutMaxMs?: number;
  /** A leader sends an empty append entry when nothing was sent for this long. Default 1000. */
  readonly heartbeatIntervalMs?: number;
  /**
   * A leader that has not heard from a quorum within this window steps down; checked every
   * `lostQuorumCheckMs`. Default 10000.
   */
  readonly lostQuorumIntervalMs?: number;
  /** Default 10000. */
  readonly lostQuorumCheckMs?: number;
  /** `campaign()` fires the election after uniform `[campaignMinMs, campaignMaxMs)`. Default 100. */
  readonly campaignMinMs?: number;
  /** Default 800. */
  readonly campaignMaxMs?: number;
  /** Delay of `campaignImmediately()`. Default 50. */
  readonly campaignImmediatelyMs?: number;
  /** Delay before the chosen successor of a leader transfer campaigns. Default 10. */
  readonly leaderTransferCampaignMs?: number;
  /** Election timer of an observer (it never campaigns). Default 48 h. */
  readonly observerTimeoutMs?: number;
  /** A follower's catchup without progress for this long is abandoned and re-requested. Default 2000. */
  readonly catchupStallMs?: number;
}

/**
 * Test-only switches that plant known protocol bugs, so that tests can show the randomized checker
 * catches them. **Never set any of these outside tests**: each one breaks Raft's safety.
 */
export interface UnsafeTestingFaults {
  /** Send a granted vote without waiting for the vote to be persisted (`afterPersist: false`). */
  readonly voteBeforePersist?: boolean;
  /**
   * Count acknowledgements of entries from older terms toward commit (breaks Raft §5.4.2). As in
   * nats-server 2.9.10, followers then also acknowledge catchup entries, which is how older-term
   * entries get acknowledged at all.
   */
  readonly commitOlderTermByCount?: boolean;
  /** Send append-entry responses without waiting for the appended record to be persisted. */
  readonly ackBeforePersist?: boolean;
  /** Overwrite a conflicting suffix in place without truncating the records after it. */
  readonly skipConflictTruncation?: boolean;
  /**
   * Planted "truncate the log at the first damaged record and carry on": damaged records and
   * everything after them are dropped at start-up, as if never written.
   */
  readonly truncateAtDamage?: boolean;
  /**
   * Planted "ignore the lost tail": the node acts on the log it has, as if records the store lost
   * after they were synced (and acknowledged) had never existed.
   */
  readonly ignoreLostTail?: boolean;
  /**
   * Confirm every `readIndex` at once, without a quorum round: a deposed leader then serves stale
   * reads (for the simulator's linearizability checks).
   */
  readonly serveReadsWithoutQuorum?: boolean;
}

/**
 * A log record the WAL reported damaged at start-up (its checksum failed): `term` is its term when
 * the record's header survived, absent when it did not.
 */
export interface DamagedRecord {
  readonly index: number;
  readonly term?: number;
}

/** Overrun limits (spec §4, §5.12), in entries. */
export interface RaftLimits {
  /**
   * A leader past this many uncommitted or unapplied entries steps down on the next proposal; a
   * follower past this many unapplied committed entries pauses quorum participation. Default
   * 100,000.
   */
  readonly overrunEntries?: number;
  /** A follower resumes quorum participation once at most this many are unapplied. Default 10,000. */
  readonly overrunResumeEntries?: number;
}

/** Options of {@link createRaftNode}. The node copies what it needs; it never mutates them. */
export interface RaftNodeOptions {
  /** This node's 8-character id (`NODE_ID_LENGTH`). */
  readonly id: string;
  /** The group name, used in subjects (`$NRG.AE.<group>`, ...). */
  readonly group: string;
  /**
   * Every member's id (order is irrelevant), this node's included when it is a member. A node that
   * is to join an existing group leaves itself out: it replicates but, in a managed group, does
   * not campaign until an `AddPeer` naming it is appended.
   */
  readonly peers: readonly string[];
  /** Cluster size used for quorum; defaults to `peers.length`. Quorum is `clusterSize/2 + 1`. */
  readonly clusterSize?: number;
  /** Start as an observer: replicates and applies, never campaigns. */
  readonly observer?: boolean;
  /** The time of creation, in the same clock `tick(now)` will use (milliseconds). */
  readonly now: number;
  readonly timing?: RaftTiming;
  /** The only source of randomness (election timeouts, inbox names). */
  readonly random: RandomSource;
  /** Records persisted by earlier runs; the node reads it during start-up replay and afterwards. */
  readonly log: LogView;
  /** Term and vote persisted by earlier runs; defaults to `{ term: 0, vote: "" }`. */
  readonly hardState?: HardState;
  /** Wire dialect of every frame this node encodes. Default `"current"`. */
  readonly dialect?: Dialect;
  /**
   * The newest durable snapshot, if any (start-up restore, spec §5.9): commit starts at its index,
   * the log is taken to continue at `index + 1` (records at or below it are compacted away, a gap
   * after it truncates the log to it), and the first `Ready` delivers it to the upper layer as a
   * committed `Snapshot` entry at `index`, before any entry after it.
   */
  readonly snapshot?: SnapshotRecord;
  /**
   * A managed group (streams, consumers) only records unknown peers it hears from; an unmanaged
   * one (the meta group) has its leader propose adding them (spec §5.14). Default `true`. In a
   * managed group a node that is not in its own peer set never campaigns.
   */
  readonly managed?: boolean;
  /** Overrun limits; defaults are nats-server's. */
  readonly limits?: RaftLimits;
  /**
   * Records the WAL found damaged (protocol-aware recovery, reliability-plan §4). The node never
   * truncates possibly committed data because of them: it asks the leader for those records (a
   * catchup from the first damaged index) and hands them back in `Ready.repair` to overwrite in
   * place. A term that is not given is taken from the next record's `pterm` when that one is
   * readable. Until every damaged record is repaired the node does not campaign, does not store new
   * entries and does not deliver committed entries at or after the first damaged one; while a
   * damaged record's term is unknown it grants no votes either.
   */
  readonly damaged?: readonly DamagedRecord[];
  /**
   * The end of a log this node had stored durably and may have acknowledged, when the store no
   * longer holds all of it (`@raft/wal`'s `recovery.lostTail`: a bit flip in the last synced
   * records, a misdirected write). Ignored unless it is more up to date (Raft §5.4.1) than the
   * stored log. Until the node's log is again at least as up to date as it (a leader re-sent the
   * records, or a newer term's entries replaced them), the node does not campaign and grants its
   * vote only to candidates at least as up to date as this lost log: it votes as the node that
   * acknowledged those records would have, so no committed entry can lose its majority through
   * this node's damage. In a group whose only voter is this node nobody could re-send the records,
   * and it is ignored.
   */
  readonly lostTail?: { readonly index: number; readonly term: number };
  /** Test only: planted bugs. See {@link UnsafeTestingFaults}. */
  readonly unsafeTestingFaults?: UnsafeTestingFaults;
}

/** A decoded NRG frame, tagged with what it is. */
export type Frame =
  | { readonly kind: "appendEntry"; readonly appendEntry: AppendEntry }
  | { readonly kind: "appendEntryResponse"; readonly response: AppendEntryResponse }
  | { readonly kind: "voteRequest"; readonly request: VoteRequest }
  | { readonly kind: "voteResponse"; readonly response: VoteResponse }
  /** A forwarded proposal on `$NRG.P.<group>`: raw data of one Normal entry. */
  | { readonly kind: "proposal"; readonly data: Uint8Array }
  /** A forwarded peer removal on `$NRG.RP.<group>`: the 8-byte peer id. */
  | { readonly kind: "removePeer"; readonly peer: string }
  /** The empty reply a leader sends to a forwarded proposal that carried a reply subject. */
  | { readonly kind: "proposalReply" };

/**
 * One inbound message as the fabric delivered it. Give either `bytes` (the node decodes them; bytes
 * that do not decode are dropped and counted, never thrown) or an already decoded `frame` (in-memory
 * harnesses skip the codec this way). The subject decides how the message is treated: an append
 * entry on `$NRG.AE.<group>` is new, one on a `$NRG.CR.` inbox is a catchup entry.
 */
export interface Inbound {
  readonly subject: string;
  /** Reply subject, `""` when none. */
  readonly reply: string;
  /**
   * The frame's bytes. Ownership passes to the node: it may keep them (a stored record, decoded
   * entries that are views into them) until they are applied and released, so the caller must not
   * reuse or mutate the buffer.
   */
  readonly bytes?: Uint8Array;
  /** The decoded frame; when given together with `bytes`, both must describe the same frame. */
  readonly frame?: Frame;
}

/** One persisted log record: one append entry occupying one index (spec §2.2). */
export interface LogRecord {
  readonly index: number;
  /** The term of the append entry (the leader's term when it created it). */
  readonly term: number;
  /** The encoded append entry, exactly what {@link LogView.entry} must return later. */
  readonly data: Uint8Array;
}

/** One frame to publish. */
export interface OutboundMessage {
  readonly subject: string;
  /** Reply subject, `""` when none. */
  readonly reply: string;
  /** Encoded frame bytes (owned by the shell after `ready()`; the node never mutates them). */
  readonly data: Uint8Array;
  /** The same frame decoded, so that in-memory transports can skip decoding. */
  readonly frame: Frame;
  /**
   * `true`: this message promises something about local durable state (a granted vote, an
   * append-entry response) and may only be sent after `hardState`, `truncateAfter` and `append` of
   * the same `Ready` are durable. `false`: may be sent at once, before or while persisting.
   */
  readonly afterPersist: boolean;
}

/** Entries committed at one index, to be applied in order (spec §5.9). */
export interface CommittedEntry {
  readonly index: number;
  /**
   * The entries of the append entry at `index`; may be empty (an election no-op still needs
   * `applied(index)`). `OldSnapshot` entries are passed up as `Snapshot`.
   */
  readonly entries: readonly Entry[];
}

/** A lead-change signal (spec §5.15): only the newest matters. */
export interface LeadChange {
  readonly isLeader: boolean;
  readonly term: number;
}

/** Role of a node. */
export const RaftState = {
  Follower: "follower",
  Candidate: "candidate",
  Leader: "leader",
  Closed: "closed",
} as const;

/** One of the values of {@link RaftState}. */
export type RaftState = (typeof RaftState)[keyof typeof RaftState];

/** Volatile state that changed since the previous `Ready`, for logging and metrics. */
export interface SoftState {
  readonly state: RaftState;
  readonly leaderId: string;
  readonly term: number;
}

/**
 * One batch of work for the shell. Fields are never `undefined` arrays: empty means nothing to do.
 * Handle the fields in the order documented at the top of this module, then call `advance(ready)`
 * with this very object.
 */
export interface Ready {
  /** Persist (fsync) before any message with `afterPersist: true` leaves. */
  readonly hardState?: HardState;
  /**
   * Drop every stored record with an index greater than this (a conflicting suffix), before
   * appending `append`. Never below the commit index.
   */
  readonly truncateAfter?: number;
  /**
   * Save this snapshot durably (replacing older ones) before anything else of this batch except
   * `hardState`. Comes from {@link RaftNode.installSnapshot} or from a leader's snapshot received
   * during catchup.
   */
  readonly snapshot?: SnapshotRecord;
  /**
   * After `snapshot` (of this or an earlier batch) is durable and after `truncateAfter`: drop every
   * stored record below this index (`@raft/wal` `compactBefore`). It may lie beyond the last stored
   * index + 1: the log is then empty and its next record is this index.
   */
  readonly compactBefore?: number;
  /**
   * The committed membership changed (a membership change committed, a peer state adopted, an
   * eviction or size adjustment): persist this encoded peer state (`peers.idx`, spec §2.10)
   * together with `hardState`, and hand its peers back as `peers` at the next start.
   */
  readonly peerState?: Uint8Array;
  /**
   * `reset()` was called: before anything else of this batch, delete every stored log record and
   * every snapshot; the log restarts empty, its next record is index 1. `hardState` and
   * `peerState` of the same batch carry the wiped term/vote and the single-member peer state.
   */
  readonly wipe?: boolean;
  /**
   * Damaged records refetched from the leader: overwrite each in place (`@raft/wal` `repair`),
   * after `compactBefore` and before `append`. Same index and term as the damaged record, so the
   * log's shape does not change.
   */
  readonly repair: readonly LogRecord[];
  /** Records to append, contiguous and in index order, starting right after the stored last index. */
  readonly append: readonly LogRecord[];
  /** Frames to publish, in order, honouring each one's `afterPersist`. */
  readonly messages: readonly OutboundMessage[];
  /**
   * Committed entries to apply, in index order, after this batch is persisted. A snapshot (at
   * start-up, or a leader's received during catchup) arrives as one entry of type `Snapshot` at its
   * index: the upper layer replaces its state with it.
   */
  readonly committed: readonly CommittedEntry[];
  /** Read barriers confirmed or failed since the previous `Ready` (see {@link RaftNode.readIndex}). */
  readonly reads: readonly ReadState[];
  /** Newest lead change since the previous `Ready`, if any. */
  readonly leadChange?: LeadChange;
  /** Present when role, leader or term changed since the previous `Ready`. */
  readonly softState?: SoftState;
  /** Subjects the shell must start delivering to this node (new inboxes, leader-only subjects). */
  readonly subscribe: readonly string[];
  /** Subjects the shell must stop delivering. */
  readonly unsubscribe: readonly string[];
  /**
   * `true` once, in the batch that delivers the last entry recovered by start-up replay (nats's nil
   * sentinel on the apply queue): the upper layer has now seen everything committed before restart.
   */
  readonly replayDone: boolean;
}

/** Result of a proposal or step-down request. */
export type ProposeResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** `NOT_LEADER`: not leader, or `term` is not the current term (fencing). */
      readonly code: "NOT_LEADER" | "CLOSED";
      /** Known leader, `""` if none. */
      readonly leaderId: string;
    };

/** Per-peer view returned by {@link RaftNode.peers} (spec §5.15). */
export interface PeerInfo {
  readonly id: string;
  /** Heard from within the lost-quorum window (always true for self). */
  readonly current: boolean;
  /** Time (tick clock) of the last message from this peer, 0 if never. */
  readonly lastSeen: number;
  /** As leader: commit minus the peer's last acknowledged index; 0 otherwise. */
  readonly lag: number;
}

/** Result of {@link RaftNode.progress}: last index, commit index, applied index. */
export interface RaftProgress {
  readonly index: number;
  readonly commit: number;
  readonly applied: number;
}

/** Result of {@link RaftNode.size}: stored entries above the last snapshot and stored bytes. */
export interface RaftSize {
  readonly entries: number;
  readonly bytes: number;
}

/** Subjects this node listens on. */
export interface RaftSubjects {
  readonly vote: string;
  readonly appendEntry: string;
  readonly proposal: string;
  readonly removePeer: string;
  /** `$NRG.R.<inbox>` for vote responses. */
  readonly voteReply: string;
  /** `$NRG.R.<inbox>` for append-entry responses. */
  readonly appendEntryReply: string;
}

/** Local damage still waiting for a leader (ADR 0004, ADR 0006). */
export interface LocalDamage {
  /** Indexes of damaged records not repaired yet, ascending. */
  readonly damaged: readonly number[];
  /** The lost tail that still binds the node's votes and keeps it from campaigning, if any. */
  readonly lostTail: { readonly index: number; readonly term: number } | undefined;
}

/** Counters for dropped and rejected input, for metrics. */
export interface RaftStats {
  /** Inbound messages whose bytes did not decode or whose subject is not ours. */
  readonly droppedInvalid: number;
  /** Proposals dropped (not leader, stale term). */
  readonly droppedProposals: number;
}

/**
 * A Raft node of one NRG group. Synchronous and deterministic: every method returns at once, none
 * performs IO. Calling any input after the node is closed is a no-op.
 */
export interface RaftNode {
  /** This node's id. */
  readonly id: string;
  /** The group name. */
  readonly group: string;
  /** Current role. */
  readonly state: RaftState;
  /** Current term. */
  readonly term: number;
  /** Known leader id, `""` when none. */
  readonly leaderId: string;
  /** Subjects to subscribe at start (leader-only and catchup subjects come through `Ready`). */
  readonly subjects: RaftSubjects;

  /** Advance the node's clock to `now` (ms, monotonic) and fire due timers. */
  tick(now: number): void;
  /** The earliest time at which `tick` has something to do. */
  nextDeadline(): number;
  /** Feed one inbound message. Undecodable or foreign input is dropped and counted. */
  step(inbound: Inbound): void;
  /** Queue one Normal entry. Fails unless leader and `term` equals the current term. */
  propose(term: number, data: Uint8Array): ProposeResult;
  /** Queue several entries (any type) atomically, under the same fencing as `propose`. */
  proposeMulti(term: number, entries: readonly Entry[]): ProposeResult;
  /** As leader: propose in the current term. Otherwise publish `data` on `$NRG.P.<group>`. */
  forwardProposal(data: Uint8Array): ProposeResult;
  /** Leader only: step down, optionally handing leadership to `preferred` (spec §5.11). */
  stepDown(preferred?: string): ProposeResult;
  /** Campaign after a random 100–800 ms (spec §1). Ignored by observers. */
  campaign(): void;
  /** Campaign after 50 ms. Ignored by observers. */
  campaignImmediately(): void;
  /** Switch observer mode; leaving it re-arms the election timer. */
  setObserver(observer: boolean): void;
  isObserver(): boolean;
  /**
   * The upper layer has processed everything up to `index` and applied up to `applied` (clamped
   * to `index`). Ignored when `index` is above the commit index.
   * @returns what a snapshot now would compact (spec §1 `Processed`): the applied entries above
   * the last snapshot, and their estimated share of the stored bytes.
   */
  processed(index: number, applied: number): RaftSize;
  /** Same as `processed(index, index)`. */
  applied(index: number): RaftSize;
  /**
   * Start a linearizable read barrier (leader only). The leader sends a heartbeat on a fresh reply
   * inbox and confirms the read once a quorum (itself included) answered it successfully in its
   * current term; the next `Ready.reads` then carries `{ id, index }` with `index` the commit index
   * at the time of the request (at least the election no-op's index). Serve the read once applied
   * ≥ `index`. On a non-leader, or when leadership ends first, the read fails with `NOT_LEADER`.
   * @param requestId - the caller's id for the read; default a fresh `r<n>`.
   * @returns the read's id.
   */
  readIndex(requestId?: string): string;
  /**
   * The upper layer hands a snapshot of its state at its applied index (spec §5.9
   * `InstallSnapshot`). The next `Ready` carries it as `snapshot` (term of the record at that
   * index, the committed membership as peer state) and `compactBefore: index + 1`. `BUSY` while
   * an earlier snapshot is not yet durable or a checkpoint is open; `force` aborts the checkpoint.
   */
  installSnapshot(data: Uint8Array, force?: boolean): SnapshotResult;
  /**
   * Open an asynchronous snapshot checkpoint at the applied index. `undefined` when nothing is
   * applied beyond the last snapshot, or when a checkpoint is open and `force` is not set (`force`
   * aborts it). While a checkpoint is open `installSnapshot` returns `BUSY` unless forced.
   */
  createSnapshotCheckpoint(force?: boolean): SnapshotCheckpoint | undefined;

  /**
   * Leader only: append an `AddPeer`. It joins the peer set (and the quorum) when appended and
   * is final when committed. One change at a time, and only once the leader committed its
   * election no-op (`IN_PROGRESS` otherwise).
   */
  proposeAddPeer(peer: string): MembershipResult;
  /**
   * Remove a member (possibly the leader itself: it steps down and closes when the removal
   * commits; its own acknowledgement does not count for it). A non-leader forwards the request on
   * `$NRG.RP.<group>`. The last member cannot be removed. Removed peers stay removed: they are not
   * auto-added again for 5 minutes.
   */
  proposeRemovePeer(peer: string): MembershipResult;
  /** An AddPeer/RemovePeer is appended and not committed. */
  membershipChangeInProgress(): boolean;
  /** Current members (this node first when it is one). */
  peerNames(): readonly string[];
  /** Leader only: set the cluster size (floor 2) and replicate it as a peer-state entry. */
  adjustClusterSize(size: number): MembershipResult;
  /** Only before any leader was seen (`NOT_ALLOWED` otherwise): set the bootstrap cluster size (floor 2). */
  adjustBootClusterSize(size: number): MembershipResult;
  /**
   * Managed groups only, while leaderless and not leading (`NOT_ALLOWED` otherwise): drop members
   * from the local peer set without the log. Each must be a member other than this node.
   */
  evictPeers(peers: readonly string[]): MembershipResult;
  /**
   * Unsafe last resort: lower the quorum to `quorum` (1..`quorumNeeded() - 1`) for 5 minutes, while no
   * leader is known, as a voting member with a non-empty log (`NOT_ALLOWED` otherwise). During a
   * rescue, votes from peers with empty logs count as normal votes. Ends early when the natural
   * quorum drops to the rescued value.
   */
  rescueQuorum(quorum: number): MembershipResult;
  /** A quorum rescue is active. */
  inRescue(): boolean;

  /**
   * Stop handing out committed entries (spec §5.13): commits learned meanwhile are remembered,
   * the node does not campaign. Refused (false) on a leader or a closed node; a candidate steps
   * down first.
   */
  pauseApply(): boolean;
  /** Resume: commit everything learned while paused; campaign if a leader transfer named us. */
  resumeApply(): boolean;
  /** Paused by `pauseApply` or `drainAndReplaySnapshot`. */
  isPaused(): boolean;
  /**
   * Pause, cancel catchup and deliver the newest snapshot again as a committed entry; the entries
   * after it are delivered again after `resumeApply()`. The highest commit is kept (reported by
   * `progress()`). False without a snapshot, on a leader or closed.
   */
  drainAndReplaySnapshot(): boolean;
  /**
   * The shell failed to persist something of a `Ready` (spec §5.16): the error is kept (see
   * `writeError()`) and the node closes; nothing it promised after that batch is valid.
   */
  reportWriteError(error: unknown): void;
  /** The sticky write error, if any. */
  writeError(): unknown;
  /**
   * Wipe all local Raft state (spec §5.16 `Reset`): step down, cancel catchup, forget commit,
   * applied and snapshot, peers = {self}, term 0 and no vote. The next `Ready` has `wipe: true`.
   */
  reset(): void;

  /**
   * True when `ready()` has something to hand out; always false while a batch is in flight (not
   * yet advanced). A new node always has a first batch: the one that carries `replayDone`.
   */
  hasReady(): boolean;
  /**
   * Take the pending batch. Call `advance` with it before the next `ready()`.
   * @throws RaftCoreError `READY_IN_FLIGHT` when the previous batch was not advanced.
   */
  ready(): Ready;
  /**
   * The shell finished `ready`: its persisted parts are durable and its messages sent.
   * @throws RaftCoreError `NOT_IN_FLIGHT` when `ready` is not the batch in flight.
   */
  advance(ready: Ready): void;

  /** Leader that has processed its election no-op (spec §5.5). */
  isLeader(): boolean;
  /** Caught up with a live leader, everything committed applied (spec §5.15). */
  current(): boolean;
  /** Same as `current()` in a pure core (nothing to wait for). */
  healthy(): boolean;
  peers(): readonly PeerInfo[];
  progress(): RaftProgress;
  size(): RaftSize;
  /** Damaged records and the lost tail still waiting for a leader's copy. */
  localDamage(): LocalDamage;
  /** Quorum of peers (self included) heard from within the lost-quorum window. */
  quorum(): boolean;
  clusterSize(): number;
  quorumNeeded(): number;
  /** Ever saw a leader (spec §1 `HadPreviousLeader`). */
  hadPreviousLeader(): boolean;
  /** Tick time at which leadership became complete (`isLeader()` true), or undefined. */
  leaderSince(): number | undefined;
  /** No leader known (spec §1 `Leaderless`). */
  leaderless(): boolean;
  stats(): RaftStats;
  /** Stop: state `closed`, every later input ignored. */
  close(): void;
}
