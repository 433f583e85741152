import { EntryType, encodePeerState, toError } from "@raft/codec";
import type { CommittedEntry, LogRecord, OutboundMessage, RaftNode, Ready } from "@raft/core";
import { RaftState } from "@raft/core";
import type { GroupStore } from "@raft/wal";
import type { Fabric, Subscription } from "../fabric/types";
import { ServerError } from "../server/server-error";
import type {
  AppliedCommand,
  Clock,
  GroupStatus,
  LeadChangeEvent,
  RaftGroup,
  RaftGroupConfig,
  ServerLogger,
  SnapshotPolicy,
} from "../server/types";
import { PendingProposals } from "../state-machine/pending-proposals";
import { decodeProposal, encodeProposal } from "../state-machine/proposal-envelope";
import type { TimerWheel } from "../timer/timer-wheel";
import { BoundedQueue } from "./bounded-queue";
import { MembershipRequests } from "./membership-requests";
import { ReadBarriers } from "./read-barriers";

/** Limits with every default filled in. */
export interface ResolvedLimits {
  readonly inboundQueueMax: number;
  readonly pendingProposalsMax: number;
  readonly proposalTimeoutMs: number;
  readonly proposalBytesMax: number;
}

/**
 * The group's current store. A `reset()` wipe closes the store and replaces it with a fresh one;
 * the node's `LogView` reads through the same reference, so both always see the store in use.
 */
export interface StoreRef {
  current: GroupStore;
}

/** How a driver wipes its store for `Ready.wipe` (implemented by the server, which owns the disk). */
export interface StoreWiper {
  /**
   * Deletes every file of the (already closed) store durably and opens a fresh, empty one; a crash
   * before {@link StoreWiper.finish} makes the next start redo the wipe. With `rejoin` it first
   * leaves a durable mark that the node must not campaign until {@link StoreWiper.rejoined}.
   */
  wipeAndReopen(rejoin: boolean): Promise<GroupStore>;
  /** The wiped store's new term/vote and peer state are durable: the wipe is complete. */
  finish(): Promise<void>;
  /** The wiped node durably holds its group's (multi-member) peer state again: drop the mark. */
  rejoined(): Promise<void>;
}

/** What a driver needs from the server hosting it. */
export interface GroupDriverOptions<TCommand, TResult> {
  readonly config: RaftGroupConfig<TCommand, TResult>;
  readonly node: RaftNode;
  readonly store: StoreRef;
  readonly wiper: StoreWiper;
  readonly fabric: Fabric;
  readonly clock: Clock;
  readonly wheel: TimerWheel;
  readonly logger: ServerLogger;
  readonly limits: ResolvedLimits;
  /** Unique per server process: proposal ids are `<prefix>-<sequence>`. */
  readonly proposalIdPrefix: string;
  /**
   * The node was wiped by `reset()` and has not yet durably adopted its group's membership: it was
   * created as an observer, and leaves observer mode (back to `config.observer`) once core's
   * cluster size is above 1 again and the driver wrote that membership to the store.
   */
  readonly rejoining: boolean;
  /** Index of the newest durable snapshot at init (0 when none); core delivers it as an entry. */
  readonly snapshotIndex: number;
  readonly serverNameForNode: (id: string) => string | undefined;
  /** Called for every message delivered after the group stopped (counted by the server). */
  readonly onDroppedAfterStop: () => void;
  /** Called once when the group stopped (for any reason), to unregister it. */
  readonly onStopped: (driver: GroupDriver<TCommand, TResult>) => void;
}

interface InboundMessage {
  readonly subject: string;
  readonly reply: string;
  readonly data: Uint8Array;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** Bound on membership requests in flight per group (core allows one change at a time anyway). */
const MEMBERSHIP_PENDING_MAX = 16;

/** Work on the node requested from outside the loop; run by the loop between batches. */
type Control = (node: RaftNode) => void;

/**
 * One group's driver loop and its user-facing handle. Fabric handlers, timers and API calls only
 * enqueue and `kick`; a single async loop feeds the queued input to the node and carries out each
 * `Ready` in the contract's order (see `@raft/core` types): send what may leave early, persist
 * (wipe, term/vote and peer state, snapshot, truncation, compaction, repair, append: one group
 * commit after the wipe), send what promises durability, apply, advance. A failed write closes the
 * node (`reportWriteError`) and stops the group with a sticky `STORAGE` error; it is never retried.
 */
export class GroupDriver<TCommand, TResult> implements RaftGroup<TCommand, TResult> {
  readonly group: string;
  readonly id: string;
  readonly #o: GroupDriverOptions<TCommand, TResult>;
  readonly #node: RaftNode;
  readonly #storeRef: StoreRef;
  readonly #inbound: BoundedQueue<InboundMessage>;
  readonly #controls: Control[] = [];
  readonly #pending = new PendingProposals();
  readonly #subs = new Map<string, Subscription>();
  readonly #leadListeners = new Set<(event: LeadChangeEvent) => void>();
  /** `snapshot()` calls not yet handed to core. */
  readonly #snapshotWaiters: Waiter[] = [];
  /** `snapshot()` calls whose snapshot core accepted; resolved once a Ready persisted it. */
  readonly #snapshotDurableWaiters: Waiter[] = [];
  readonly #reads = new ReadBarriers();
  /** `reset()` calls whose wipe is not durable yet. */
  readonly #resetWaiters: Waiter[] = [];
  readonly #membership: MembershipRequests;
  readonly #replayed: Promise<void>;
  #resolveReplayed: () => void = () => {};
  #rejectReplayed: (e: Error) => void = () => {};

  #started = false;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #closed = false;
  #tickDue = false;
  #snapshotInFlight = false;
  /** See {@link GroupDriverOptions.rejoining}; also set by a `reset()` of a multi-member group. */
  #rejoining: boolean;
  /** The error that stopped the group (sticky), if it stopped because of one. */
  #failure: Error | undefined;
  /**
   * The state machine's state before anything was applied to it, captured at the first apply: a
   * `reset()` wipe puts the state machine back to it, since core then delivers the log from
   * index 1 (or a snapshot) again.
   */
  #initialState: Uint8Array | undefined;

  #sequence = 0;

  #applied = 0;
  /** Index of the newest durable snapshot. */
  #snapshotIndex: number;
  /** Applied index through which the state machine was replaced by a snapshot entry. */
  #restoredThrough = 0;
  #snapshotsTaken = 0;
  #entriesSinceSnapshot = 0;
  #bytesSinceSnapshot = 0;
  #readies = 0;
  #inboundDropped = 0;
  #proposalsRejected = 0;
  #undecodableEntries = 0;
  #publishFailures = 0;

  /** @param options - the node, its store and the server's shared services. */
  constructor(options: GroupDriverOptions<TCommand, TResult>) {
    this.#o = options;
    this.#node = options.node;
    this.#storeRef = options.store;
    this.group = options.node.group;
    this.id = options.node.id;
    this.#inbound = new BoundedQueue(options.limits.inboundQueueMax);
    this.#membership = new MembershipRequests(this.group);
    this.#snapshotIndex = options.snapshotIndex;
    this.#rejoining = options.rejoining;
    this.#replayed = new Promise<void>((resolve, reject) => {
      this.#resolveReplayed = resolve;
      this.#rejectReplayed = reject;
    });
    // A rejection nobody awaits must not become an unhandled rejection.
    this.#replayed.catch(() => {});
  }

  get #store(): GroupStore {
    return this.#storeRef.current;
  }

  /** Subscribes the node's subjects and starts the loop. Idempotent. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const s = this.#node.subjects;
    for (const subject of [s.vote, s.appendEntry, s.voteReply, s.appendEntryReply]) {
      this.#subscribe(subject);
    }
    this.#kick();
  }

  /** Whether `start` was called. */
  isStarted(): boolean {
    return this.#started;
  }

  propose(command: TCommand): Promise<TResult> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#node.state !== RaftState.Leader) return Promise.reject(this.#notLeader());
    if (this.#pending.size() >= this.#o.limits.pendingProposalsMax) {
      this.#proposalsRejected++;
      return Promise.reject(
        new ServerError("OVERLOADED", `group ${this.group}: too many pending proposals`),
      );
    }
    const id = `${this.#o.proposalIdPrefix}-${++this.#sequence}`;
    let data: Uint8Array;
    try {
      data = encodeProposal(id, command);
    } catch (error) {
      return Promise.reject(
        new ServerError("INVALID_ARGUMENT", "command is not MessagePack-encodable", {
          cause: error,
        }),
      );
    }
    if (data.length > this.#o.limits.proposalBytesMax) {
      this.#proposalsRejected++;
      return Promise.reject(
        new ServerError(
          "OVERLOADED",
          `proposal of ${data.length} bytes exceeds proposalBytesMax ${this.#o.limits.proposalBytesMax}`,
        ),
      );
    }
    const deadline = this.#o.clock.now() + this.#o.limits.proposalTimeoutMs;
    return new Promise<TResult>((resolve, reject) => {
      this.#pending.add(id, data, deadline, (r) => resolve(r as TResult), reject);
      this.#kick();
    });
  }

  state(): RaftState {
    return this.#closed ? RaftState.Closed : this.#node.state;
  }

  isLeader(): boolean {
    return !this.#closed && this.#node.isLeader();
  }

  leaderId(): string {
    return this.#node.leaderId;
  }

  term(): number {
    return this.#node.term;
  }

  stepDown(preferred?: string): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.#closed) {
        resolve(false);
        return;
      }
      this.#control((node) => {
        const r = preferred === undefined ? node.stepDown() : node.stepDown(preferred);
        resolve(r.ok);
      });
    });
  }

  campaign(): void {
    this.#control((node) => node.campaign());
  }

  setObserver(observer: boolean): void {
    this.#control((node) => node.setObserver(observer));
  }

  snapshot(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    return new Promise<void>((resolve, reject) => {
      this.#snapshotWaiters.push({ resolve, reject });
      this.#kick();
    });
  }

  readBarrier(): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#node.state !== RaftState.Leader) return Promise.reject(this.#notLeader());
    if (this.#reads.size() >= this.#o.limits.pendingProposalsMax) {
      return Promise.reject(
        new ServerError("OVERLOADED", `group ${this.group}: too many pending reads`),
      );
    }
    const deadline = this.#o.clock.now() + this.#o.limits.proposalTimeoutMs;
    return new Promise<number>((resolve, reject) => {
      this.#reads.add(deadline, resolve, reject);
      this.#kick();
    });
  }

  proposeAddPeer(peer: string): Promise<void> {
    return this.#changeMembership(peer, true);
  }

  proposeRemovePeer(peer: string): Promise<void> {
    return this.#changeMembership(peer, false);
  }

  peerNames(): readonly string[] {
    return this.#node.peerNames();
  }

  reset(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    return new Promise<void>((resolve, reject) => {
      this.#resetWaiters.push({ resolve, reject });
      this.#control((node) => {
        // Core's reset leaves this node alone in a group of one, which would elect itself and
        // commit on its own before it hears from the real leader (or forever, cut off from it).
        // Unless the group really has one member, it stays an observer until it adopted the
        // group's membership from a leader (see `#finishRejoin`).
        const rejoin = node.peerNames().length > 1 || this.#rejoining;
        node.reset();
        if (rejoin) {
          this.#rejoining = true;
          node.setObserver(true);
        }
      });
    });
  }

  error(): Error | undefined {
    return this.#failure;
  }

  #changeMembership(peer: string, add: boolean): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (add && this.#node.state !== RaftState.Leader) return Promise.reject(this.#notLeader());
    if (this.#membership.size() >= MEMBERSHIP_PENDING_MAX) {
      return Promise.reject(
        new ServerError("OVERLOADED", `group ${this.group}: too many membership requests`),
      );
    }
    const deadline = this.#o.clock.now() + this.#o.limits.proposalTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      this.#control((node) => {
        const wasLeader = node.state === RaftState.Leader;
        const r = add ? node.proposeAddPeer(peer) : node.proposeRemovePeer(peer);
        if (!r.ok) {
          reject(
            r.code === "NOT_LEADER"
              ? this.#notLeader()
              : r.code === "CLOSED"
                ? this.#closedError()
                : new ServerError(
                    "MEMBERSHIP",
                    `group ${this.group}: ${add ? "add" : "remove"} peer ${peer} refused: ${r.code}`,
                    { reason: r.code },
                  ),
          );
          return;
        }
        this.#membership.add({ peer, add, deadline, asLeader: wasLeader, resolve, reject });
      });
    });
  }

  onLeadChange(listener: (event: LeadChangeEvent) => void): () => void {
    this.#leadListeners.add(listener);
    return () => {
      this.#leadListeners.delete(listener);
    };
  }

  replayed(): Promise<void> {
    return this.#replayed;
  }

  status(): GroupStatus {
    const node = this.#node;
    const now = this.#o.clock.now();
    const progress = node.progress();
    const damage = node.localDamage();
    const st = this.#store.stats;
    const leaderId = node.leaderId;
    let walFirst = 0;
    let walLast = 0;
    let walBytes = 0;
    // A store closed after a failure throws on every query; report zeros then.
    try {
      walFirst = this.#store.firstIndex;
      walLast = this.#store.lastIndex;
      walBytes = this.#store.sizeBytes;
    } catch {}
    return {
      group: this.group,
      id: this.id,
      state: this.state(),
      term: node.term,
      leaderId,
      leaderServerName: leaderId === "" ? undefined : this.#o.serverNameForNode(leaderId),
      isLeader: this.isLeader(),
      observer: node.isObserver(),
      healthy: !this.#closed && node.healthy(),
      lastIndex: progress.index,
      commit: progress.commit,
      applied: this.#applied,
      clusterSize: node.clusterSize(),
      quorumNeeded: node.quorumNeeded(),
      peers: node.peers().map((p) => ({
        id: p.id,
        serverName: this.#o.serverNameForNode(p.id),
        current: p.current,
        lastContactMs: p.id === this.id ? 0 : p.lastSeen === 0 ? undefined : now - p.lastSeen,
        lag: p.lag,
      })),
      wal: {
        firstIndex: walFirst,
        lastIndex: walLast,
        sizeBytes: walBytes,
        syncs: st.syncs,
        markSyncs: st.markSyncs,
        appends: st.appends,
        records: st.records,
        appendsPerSync: st.syncs === 0 ? 0 : st.appends / st.syncs,
        maxAppendsPerSync: st.maxAppendsPerSync,
      },
      queues: {
        inbound: this.#inbound.length,
        inboundMax: this.#inbound.capacity,
        inboundDropped: this.#inboundDropped,
        pendingProposals: this.#pending.size(),
        pendingProposalsMax: this.#o.limits.pendingProposalsMax,
        proposalsRejected: this.#proposalsRejected,
        invalidDropped: node.stats().droppedInvalid,
        undecodableEntries: this.#undecodableEntries,
      },
      snapshot: { index: this.#snapshotIndex, taken: this.#snapshotsTaken, compacting: true },
      localDamage: { damagedRecords: damage.damaged.length, lostTail: damage.lostTail },
      readies: this.#readies,
    };
  }

  /** Messages the fabric failed to take (publish threw), for server metrics. */
  publishFailures(): number {
    return this.#publishFailures;
  }

  stop(): Promise<void> {
    if (this.#stopping === undefined) this.#stopping = this.#shutdown(undefined);
    return this.#stopping;
  }

  // --- input side: only enqueue, then kick ---------------------------------------------------

  #subscribe(subject: string): void {
    if (this.#subs.has(subject)) return;
    try {
      const sub = this.#o.fabric.subscribe(subject, (msg) => {
        if (this.#closed) {
          this.#o.onDroppedAfterStop();
          return;
        }
        const queued = this.#inbound.push({
          subject: msg.subject,
          reply: msg.reply ?? "",
          data: msg.data,
        });
        if (!queued) {
          this.#inboundDropped++;
          return;
        }
        this.#kick();
      });
      this.#subs.set(subject, sub);
    } catch (error) {
      this.#o.logger.warn({ group: this.group, subject, err: toError(error) }, "subscribe failed");
    }
  }

  #unsubscribe(subject: string): void {
    const sub = this.#subs.get(subject);
    if (sub === undefined) return;
    this.#subs.delete(subject);
    sub.unsubscribe();
  }

  #control(control: Control): void {
    if (this.#closed) return;
    if (!this.#started) {
      // No loop yet, so no batch in flight: apply it now; its effects leave with the first Ready.
      control(this.#node);
      return;
    }
    this.#controls.push(control);
    this.#kick();
  }

  #onTimer = (): void => {
    this.#tickDue = true;
    this.#kick();
  };

  #kick(): void {
    if (this.#running !== undefined || this.#closed || !this.#started) return;
    this.#running = this.#loop();
  }

  // --- the loop ------------------------------------------------------------------------------

  async #loop(): Promise<void> {
    // Yield once so that a burst of enqueues (a fabric flush, many `propose` calls) lands in one
    // batch instead of one Ready each.
    await Promise.resolve();
    try {
      while (!this.#closed && this.#hasWork()) await this.#cycle();
    } catch (error) {
      this.#running = undefined;
      void this.#fail(error);
      return;
    }
    this.#running = undefined;
    if (!this.#closed && this.#hasWork()) this.#kick();
  }

  #hasWork(): boolean {
    return (
      this.#tickDue ||
      this.#inbound.length > 0 ||
      this.#controls.length > 0 ||
      this.#pending.queuedCount() > 0 ||
      this.#snapshotWaiters.length > 0 ||
      this.#reads.queuedCount() > 0 ||
      this.#node.hasReady()
    );
  }

  async #cycle(): Promise<void> {
    const node = this.#node;
    const now = this.#o.clock.now();
    this.#tickDue = false;
    node.tick(now);
    for (let c = this.#controls.shift(); c !== undefined; c = this.#controls.shift()) c(node);
    for (let m = this.#inbound.shift(); m !== undefined; m = this.#inbound.shift()) {
      node.step({ subject: m.subject, reply: m.reply, bytes: m.data });
    }
    this.#pending.drainQueued((data) => {
      const term = node.term;
      const r = node.propose(term, data);
      if (r.ok) return term;
      return r.code === "CLOSED" ? this.#closedError() : this.#notLeader(r.leaderId);
    });
    this.#reads.submit(() => node.readIndex());
    if (node.hasReady()) await this.#handleReady(node.ready());
    if (this.#rejoining && node.state !== RaftState.Closed && node.clusterSize() > 1) {
      await this.#finishRejoin();
    }
    if (this.#snapshotWaiters.length > 0 || this.#snapshotDue()) await this.#takeSnapshot();
    const later = this.#o.clock.now();
    this.#pending.expire(
      later,
      () => new ServerError("TIMEOUT", `group ${this.group}: proposal not applied in time`),
    );
    this.#reads.expire(
      later,
      () => new ServerError("TIMEOUT", `group ${this.group}: read barrier not confirmed in time`),
    );
    this.#membership.check(node, later);
    if (node.state === RaftState.Closed && !this.#closed) {
      // Core closes a node whose own removal committed (spec §5.14): the group ends here.
      this.#o.logger.info({ group: this.group }, "removed from the group");
      void this.stop();
      return;
    }
    this.#armTimer();
  }

  #armTimer(): void {
    if (this.#closed) return;
    let deadline = this.#node.nextDeadline();
    const proposalDeadline = this.#pending.nextDeadline();
    if (proposalDeadline !== undefined && proposalDeadline < deadline) deadline = proposalDeadline;
    for (const d of [this.#reads.nextDeadline(), this.#membership.nextDeadline()]) {
      if (d !== undefined && d < deadline) deadline = d;
    }
    if (!Number.isFinite(deadline)) {
      this.#o.wheel.cancel(this.group);
      return;
    }
    this.#o.wheel.schedule(this.group, deadline, this.#onTimer);
  }

  async #handleReady(rd: Ready): Promise<void> {
    this.#readies++;
    for (const subject of rd.unsubscribe) this.#unsubscribe(subject);
    for (const subject of rd.subscribe) this.#subscribe(subject);
    // Thesis §10.2.1: frames that promise nothing about local state leave before the fsync.
    this.#send(rd.messages, false);
    await this.#persist(rd);
    if (rd.wipe === true) await this.#afterWipe();
    if (rd.snapshot !== undefined) this.#onSnapshotDurable(rd.snapshot.index);
    this.#send(rd.messages, true);
    await this.#apply(rd.committed);
    this.#reads.update(rd.reads, this.#applied, (code) =>
      code === "CLOSED" ? this.#closedError() : this.#notLeader(),
    );
    if (rd.leadChange !== undefined || rd.softState !== undefined) this.#onRoleChange(rd);
    this.#node.advance(rd);
    if (rd.replayDone) this.#resolveReplayed();
  }

  /**
   * Step 4 of the Ready contract: makes everything the batch asks to persist durable, in the
   * documented order (wipe → term/vote and peer state → snapshot → truncateAfter → compactBefore →
   * repair → append). A failure is reported to core (`reportWriteError`: the node closes and
   * promises nothing of this batch) and rethrown as `STORAGE`, which stops the group. The fsync is
   * never retried: after a failed fsync the kernel may have dropped the dirty pages it could not
   * write, so a retry that "succeeds" proves nothing (the WAL closes itself for the same reason).
   */
  async #persist(rd: Ready): Promise<void> {
    if (!needsPersist(rd)) return;
    try {
      await this.#persistOrThrow(rd);
    } catch (error) {
      this.#node.reportWriteError(error);
      throw new ServerError("STORAGE", `group ${this.group}: WAL write failed`, { cause: error });
    }
  }

  async #persistOrThrow(rd: Ready): Promise<void> {
    // The wipe replaces the store, so it completes before anything else of the batch is issued.
    if (rd.wipe === true) await this.#wipe();
    const store = this.#store;
    // Issued back to back: the store performs them in issue order, which is the contract's order,
    // and one await covers the whole group commit.
    const writes: Promise<void>[] = [];
    if (rd.hardState !== undefined) writes.push(store.setTermVote(rd.hardState));
    if (rd.peerState !== undefined) writes.push(store.setPeerState(rd.peerState));
    if (rd.snapshot !== undefined) writes.push(store.saveSnapshot(rd.snapshot));
    if (rd.truncateAfter !== undefined) writes.push(store.truncateAfter(rd.truncateAfter));
    if (rd.compactBefore !== undefined) writes.push(store.compactBefore(rd.compactBefore));
    for (const run of consecutiveRuns(rd.repair)) writes.push(store.repair(run));
    if (rd.append.length > 0) {
      writes.push(store.append(rd.append));
      for (const r of rd.append) this.#bytesSinceSnapshot += r.data.length;
    }
    if (writes.length > 0) {
      const results = await Promise.allSettled(writes);
      for (const r of results) if (r.status === "rejected") throw r.reason;
    }
    if (rd.repair.length > 0) {
      this.#o.logger.info(
        {
          group: this.group,
          indexes: rd.repair.map((r) => r.index),
        },
        "damaged log records repaired from the leader",
      );
    }
    // Only now is the wiped state (term 0, the single-member peer state) durable, so only now may
    // the marker that makes a restart redo the wipe go.
    if (rd.wipe === true) await this.#o.wiper.finish();
  }

  /**
   * `Ready.wipe` (core's `reset()`): closes the store, deletes every file of it and opens a fresh
   * one under the same {@link StoreRef}, then puts the state machine and the driver's counters back
   * to "nothing applied", since core delivers the group's history again from index 1 or from a
   * leader's snapshot.
   */
  async #wipe(): Promise<void> {
    const old = this.#store;
    await old.close();
    this.#storeRef.current = await this.#o.wiper.wipeAndReopen(this.#rejoining);
    this.#o.logger.warn({ group: this.group }, "group state wiped (reset)");
  }

  /**
   * A node wiped by `reset()` learned its group's membership again (core adopts it from a
   * committed peer-state entry or a leader's snapshot: its cluster size is above 1 again). Core
   * does not hand an adopted peer state back in `Ready.peerState`, so the store would still hold
   * the wipe's single-member peer state, which a restart would start from; the driver writes the
   * adopted one, then drops the rejoin mark and lets the node campaign again.
   */
  async #finishRejoin(): Promise<void> {
    const node = this.#node;
    const peerState = encodePeerState({
      clusterSize: node.clusterSize(),
      peers: node.peerNames(),
      extState: 0,
    });
    try {
      await this.#store.setPeerState(peerState);
      await this.#o.wiper.rejoined();
    } catch (error) {
      node.reportWriteError(error);
      throw new ServerError("STORAGE", `group ${this.group}: WAL write failed`, { cause: error });
    }
    this.#rejoining = false;
    node.setObserver(this.#o.config.observer ?? false);
    this.#o.logger.info(
      { group: this.group, peers: node.peerNames(), clusterSize: node.clusterSize() },
      "rejoined the group after a reset",
    );
  }

  /** After a durable wipe: the upper layer forgets everything applied. */
  async #afterWipe(): Promise<void> {
    if (this.#initialState !== undefined && this.#applied > 0) {
      await this.#restore(0, this.#initialState);
    }
    // Proposals in flight may or may not have been committed by the others.
    this.#pending.rejectInFlight(
      () => new ServerError("TIMEOUT", `group ${this.group}: outcome unknown, the group was reset`),
    );
    this.#applied = 0;
    this.#restoredThrough = 0;
    this.#snapshotIndex = 0;
    this.#entriesSinceSnapshot = 0;
    this.#bytesSinceSnapshot = 0;
    // A snapshot handed to core before the reset is gone with everything else: nothing is left to
    // compact, which is what the waiters asked for.
    this.#snapshotInFlight = false;
    for (const w of this.#snapshotDurableWaiters.splice(0, this.#snapshotDurableWaiters.length)) {
      w.resolve();
    }
    for (const w of this.#resetWaiters.splice(0, this.#resetWaiters.length)) w.resolve();
  }

  #send(messages: readonly OutboundMessage[], afterPersist: boolean): void {
    for (const m of messages) {
      if (m.afterPersist !== afterPersist) continue;
      try {
        this.#o.fabric.publish(m.subject, m.reply === "" ? undefined : m.reply, m.data);
      } catch (error) {
        // A transport refusal (closed fabric, oversized frame) is like loss: Raft retransmits.
        this.#publishFailures++;
        this.#o.logger.warn(
          { group: this.group, subject: m.subject, bytes: m.data.length, err: toError(error) },
          "publish failed",
        );
      }
    }
  }

  async #apply(committed: readonly CommittedEntry[]): Promise<void> {
    if (committed.length === 0) return;
    if (this.#initialState === undefined) {
      // Nothing was applied yet, so this is the state a reset must go back to.
      try {
        const initial = this.#o.config.stateMachine.snapshot();
        // No await for a synchronous state machine: the first apply is not delayed by a turn.
        this.#initialState = initial instanceof Uint8Array ? initial : await initial;
      } catch (error) {
        throw new ServerError("STATE_MACHINE", `group ${this.group}: snapshot threw`, {
          cause: error,
        });
      }
    }
    const commands: AppliedCommand<TCommand>[] = [];
    const ids: string[] = [];
    // Term of each command's entry (`-1` when unknown): a result goes to a proposal only if core
    // accepted it in that very term.
    const terms: number[] = [];
    let last = 0;
    for (const ce of committed) {
      last = ce.index;
      // Already contained in a snapshot the state machine was restored from.
      if (ce.index <= this.#restoredThrough) continue;
      let entryTerm: number | undefined;
      for (const e of ce.entries) {
        if (e.type === EntryType.Snapshot) {
          // Commands before the snapshot first, then the state is replaced wholesale.
          await this.#applyCommands(commands, ids, terms);
          commands.length = 0;
          ids.length = 0;
          terms.length = 0;
          await this.#restore(ce.index, e.data);
          continue;
        }
        if (e.type !== EntryType.Normal) continue;
        const envelope = decodeProposal(e.data);
        if (entryTerm === undefined) entryTerm = this.#termOf(ce.index);
        if (envelope === undefined) {
          this.#undecodableEntries++;
          continue;
        }
        commands.push({ index: ce.index, command: envelope.command as TCommand });
        ids.push(envelope.id);
        terms.push(entryTerm);
      }
    }
    await this.#applyCommands(commands, ids, terms);
    // Proposals are not rejected when leadership is lost (they may still commit): only once an
    // entry of a later term is applied is a proposal still waiting known never to commit.
    const lastTerm = this.#termOf(last);
    if (lastTerm > 0) {
      this.#pending.rejectOlderThan(lastTerm, () =>
        this.#notLeader(undefined, "the proposal was not committed: leadership changed first"),
      );
    }
    if (last > this.#applied) {
      this.#entriesSinceSnapshot += last - Math.max(this.#applied, this.#restoredThrough);
      this.#applied = last;
    }
    this.#node.applied(last);
  }

  async #restore(index: number, data: Uint8Array): Promise<void> {
    try {
      await this.#o.config.stateMachine.restore(data);
    } catch (error) {
      throw new ServerError("STATE_MACHINE", `group ${this.group}: restore threw`, {
        cause: error,
      });
    }
    // Proposals of this node may or may not be inside the snapshot: their outcome is unknown.
    this.#pending.rejectInFlight(
      () =>
        new ServerError(
          "TIMEOUT",
          `group ${this.group}: outcome unknown, the state was replaced by a snapshot`,
        ),
    );
    this.#restoredThrough = index;
    this.#applied = Math.max(this.#applied, index);
    this.#entriesSinceSnapshot = 0;
    this.#bytesSinceSnapshot = 0;
    this.#o.logger.info(
      { group: this.group, index, bytes: data.length },
      "state restored from snapshot",
    );
  }

  /** Term of the stored entry at `index`, or -1 when the log no longer holds it. */
  #termOf(index: number): number {
    try {
      return this.#store.term(index);
    } catch {
      return -1;
    }
  }

  async #applyCommands(
    commands: readonly AppliedCommand<TCommand>[],
    ids: readonly string[],
    terms: readonly number[],
  ): Promise<void> {
    if (commands.length > 0) {
      let results: readonly TResult[];
      try {
        results = await this.#o.config.stateMachine.apply(commands);
      } catch (error) {
        throw new ServerError("STATE_MACHINE", `group ${this.group}: apply threw`, {
          cause: error,
        });
      }
      if (!Array.isArray(results) || results.length !== commands.length) {
        throw new ServerError(
          "STATE_MACHINE",
          `group ${this.group}: apply returned ${Array.isArray(results) ? results.length : "no"} results for ${commands.length} commands`,
        );
      }
      for (let i = 0; i < ids.length; i++) {
        this.#pending.resolve(ids[i] as string, terms[i] as number, results[i]);
      }
    }
  }

  #onRoleChange(rd: Ready): void {
    const node = this.#node;
    if (rd.softState !== undefined) {
      this.#o.logger.info(
        {
          group: this.group,
          state: rd.softState.state,
          term: rd.softState.term,
          leaderId: rd.softState.leaderId,
        },
        "raft state changed",
      );
    }
    if (rd.leadChange !== undefined) {
      const event: LeadChangeEvent = {
        group: this.group,
        isLeader: rd.leadChange.isLeader,
        term: rd.leadChange.term,
        leaderId: node.leaderId,
      };
      for (const listener of this.#leadListeners) {
        try {
          listener(event);
        } catch (error) {
          this.#o.logger.warn({ group: this.group, err: toError(error) }, "lead listener threw");
        }
      }
    }
  }

  // --- snapshots ---------------------------------------------------------------------------

  #snapshotDue(): boolean {
    const policy: SnapshotPolicy | undefined = this.#o.config.snapshotPolicy;
    if (policy === undefined || this.#applied <= this.#snapshotIndex) return false;
    if (this.#snapshotDurableWaiters.length > 0 || this.#snapshotInFlight) return false;
    const entries = policy.entries ?? 0;
    const bytes = policy.bytes ?? 0;
    return (
      (entries > 0 && this.#entriesSinceSnapshot >= entries) ||
      (bytes > 0 && this.#bytesSinceSnapshot >= bytes)
    );
  }

  /**
   * Hands the state machine's state at the applied index to core, between two batches so that it
   * is exactly the state after `applied`. Core returns it in the next `Ready` as `snapshot` plus
   * `compactBefore`, which `#persist` saves and compacts in that order.
   */
  async #takeSnapshot(): Promise<void> {
    const waiters = this.#snapshotWaiters.splice(0, this.#snapshotWaiters.length);
    if (this.#applied <= this.#snapshotIndex && !this.#snapshotInFlight) {
      for (const w of waiters) w.resolve();
      return;
    }
    if (this.#snapshotInFlight) {
      this.#snapshotDurableWaiters.push(...waiters);
      return;
    }
    let data: Uint8Array;
    try {
      data = await this.#o.config.stateMachine.snapshot();
    } catch (error) {
      const e = new ServerError("STATE_MACHINE", `group ${this.group}: snapshot threw`, {
        cause: error,
      });
      for (const w of waiters) w.reject(e);
      throw e;
    }
    const r = this.#node.installSnapshot(data);
    if (r.ok) {
      this.#snapshotInFlight = true;
      this.#snapshotsTaken++;
      this.#entriesSinceSnapshot = 0;
      this.#bytesSinceSnapshot = 0;
      this.#snapshotDurableWaiters.push(...waiters);
      this.#o.logger.debug(
        { group: this.group, index: r.index, bytes: data.length },
        "snapshot taken",
      );
      return;
    }
    switch (r.code) {
      case "NOTHING_APPLIED":
        for (const w of waiters) w.resolve();
        return;
      case "BUSY":
        this.#snapshotDurableWaiters.push(...waiters);
        return;
      case "CLOSED":
        for (const w of waiters) w.reject(this.#closedError());
        return;
    }
  }

  #onSnapshotDurable(index: number): void {
    this.#snapshotIndex = Math.max(this.#snapshotIndex, index);
    this.#snapshotInFlight = false;
    for (const w of this.#snapshotDurableWaiters.splice(0, this.#snapshotDurableWaiters.length)) {
      w.resolve();
    }
  }

  // --- errors and shutdown -----------------------------------------------------------------

  #notLeader(leaderHint?: string, why = "not leader"): ServerError {
    const leaderId = leaderHint || this.#node.leaderId;
    const leaderServerName = leaderId === "" ? undefined : this.#o.serverNameForNode(leaderId);
    const known =
      leaderId === ""
        ? " (no known leader)"
        : ` (leader ${leaderId}${leaderServerName === undefined ? "" : ` on ${leaderServerName}`})`;
    return new ServerError("NOT_LEADER", `group ${this.group}: ${why}${known}`, {
      leaderId,
      leaderServerName,
    });
  }

  /** `CLOSED`, caused by the error that stopped the group when there was one (sticky). */
  #closedError(cause: unknown = this.#failure): ServerError {
    return new ServerError(
      "CLOSED",
      `group ${this.group} is stopped`,
      cause === undefined ? {} : { cause },
    );
  }

  async #fail(error: unknown): Promise<void> {
    const err = toError(error);
    this.#o.logger.error({ group: this.group, err }, "group stopped after a fatal error");
    if (this.#stopping === undefined) this.#stopping = this.#shutdown(err);
    await this.#stopping;
  }

  async #shutdown(cause: Error | undefined): Promise<void> {
    this.#closed = true;
    this.#failure = cause;
    this.#o.wheel.cancel(this.group);
    for (const subject of [...this.#subs.keys()]) this.#unsubscribe(subject);
    this.#inbound.clear();
    this.#controls.length = 0;
    this.#pending.rejectAll(() => this.#closedError(cause));
    const closedError = this.#closedError(cause);
    for (const w of this.#snapshotWaiters.splice(0, this.#snapshotWaiters.length)) {
      w.reject(closedError);
    }
    for (const w of this.#snapshotDurableWaiters.splice(0, this.#snapshotDurableWaiters.length)) {
      w.reject(closedError);
    }
    this.#reads.rejectAll(closedError);
    for (const w of this.#resetWaiters.splice(0, this.#resetWaiters.length)) w.reject(closedError);
    this.#membership.rejectAll(closedError);
    this.#rejectReplayed(closedError);
    // Let an in-flight batch finish its disk work before the store closes under it.
    if (this.#running !== undefined) await this.#running.catch(() => {});
    this.#node.close();
    try {
      await this.#store.close();
    } catch (error) {
      this.#o.logger.warn({ group: this.group, err: toError(error) }, "wal close failed");
    }
    this.#o.onStopped(this);
  }
}

/**
 * Splits repaired records into runs of consecutive indexes: `GroupStore.repair` takes one run of a
 * damaged stretch per call, while one `Ready.repair` may fill several separate damaged records.
 */
function consecutiveRuns(records: readonly LogRecord[]): LogRecord[][] {
  const runs: LogRecord[][] = [];
  let run: LogRecord[] = [];
  for (const r of records) {
    const last = run[run.length - 1];
    if (last !== undefined && r.index !== last.index + 1) {
      runs.push(run);
      run = [];
    }
    run.push(r);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Whether a `Ready` carries anything for the WAL. */
function needsPersist(rd: Ready): boolean {
  return (
    rd.wipe === true ||
    rd.hardState !== undefined ||
    rd.peerState !== undefined ||
    rd.snapshot !== undefined ||
    rd.truncateAfter !== undefined ||
    rd.compactBefore !== undefined ||
    rd.repair.length > 0 ||
    rd.append.length > 0
  );
}
