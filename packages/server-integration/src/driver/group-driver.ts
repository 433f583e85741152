import { encodePeerState, EntryType, toError } from "@raft/codec";
import { RaftState } from "@raft/core";
import type { CommittedEntry, OutboundMessage, RaftNode, Ready } from "@raft/core";
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

/** Limits with every default filled in. */
export interface ResolvedLimits {
  readonly inboundQueueMax: number;
  readonly pendingProposalsMax: number;
  readonly proposalTimeoutMs: number;
  readonly proposalBytesMax: number;
}

/** What a driver needs from the server hosting it. */
export interface GroupDriverOptions<TCommand, TResult> {
  readonly config: RaftGroupConfig<TCommand, TResult>;
  readonly node: RaftNode;
  readonly store: GroupStore;
  readonly fabric: Fabric;
  readonly clock: Clock;
  readonly wheel: TimerWheel;
  readonly logger: ServerLogger;
  readonly limits: ResolvedLimits;
  /** Unique per server process: proposal ids are `<prefix>-<sequence>`. */
  readonly proposalIdPrefix: string;
  /** Index of the snapshot restored at init (0 when none): committed indexes up to it are skipped. */
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

/** Work on the node requested from outside the loop; run by the loop between batches. */
type Control = (node: RaftNode) => void;

/**
 * One group's driver loop and its user-facing handle. Fabric handlers, timers and API calls only
 * enqueue and `kick`; a single async loop feeds the queued input to the node and carries out each
 * `Ready` in the contract's order (see `@raft/core` types): send what may leave early, persist
 * (term/vote, truncation, append: one group commit), send what promises durability, apply, advance.
 */
export class GroupDriver<TCommand, TResult> implements RaftGroup<TCommand, TResult> {
  readonly group: string;
  readonly id: string;
  readonly #o: GroupDriverOptions<TCommand, TResult>;
  readonly #node: RaftNode;
  readonly #store: GroupStore;
  readonly #inbound: BoundedQueue<InboundMessage>;
  readonly #controls: Control[] = [];
  readonly #pending = new PendingProposals();
  readonly #subs = new Map<string, Subscription>();
  readonly #leadListeners = new Set<(event: LeadChangeEvent) => void>();
  readonly #snapshotWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  readonly #replayed: Promise<void>;
  #resolveReplayed: () => void = () => {};
  #rejectReplayed: (e: Error) => void = () => {};

  #started = false;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #closed = false;
  #tickDue = false;
  #sequence = 0;

  #applied = 0;
  #snapshotIndex: number;
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
    this.#store = options.store;
    this.group = options.node.group;
    this.id = options.node.id;
    this.#inbound = new BoundedQueue(options.limits.inboundQueueMax);
    this.#snapshotIndex = options.snapshotIndex;
    this.#applied = options.snapshotIndex;
    this.#replayed = new Promise<void>((resolve, reject) => {
      this.#resolveReplayed = resolve;
      this.#rejectReplayed = reject;
    });
    // A rejection nobody awaits must not become an unhandled rejection.
    this.#replayed.catch(() => {});
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
      snapshot: { index: this.#snapshotIndex, taken: this.#snapshotsTaken, compacting: false },
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
    if (node.hasReady()) await this.#handleReady(node.ready());
    if (this.#snapshotWaiters.length > 0 || this.#snapshotDue()) await this.#takeSnapshot();
    this.#pending.expire(
      this.#o.clock.now(),
      () => new ServerError("TIMEOUT", `group ${this.group}: proposal not applied in time`),
    );
    this.#armTimer();
  }

  #armTimer(): void {
    if (this.#closed) return;
    let deadline = this.#node.nextDeadline();
    const proposalDeadline = this.#pending.nextDeadline();
    if (proposalDeadline !== undefined && proposalDeadline < deadline) deadline = proposalDeadline;
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
    this.#send(rd.messages, true);
    await this.#apply(rd.committed);
    if (rd.leadChange !== undefined || rd.softState !== undefined) this.#onRoleChange(rd);
    this.#node.advance(rd);
    if (rd.replayDone) this.#resolveReplayed();
  }

  async #persist(rd: Ready): Promise<void> {
    const store = this.#store;
    // Issued back to back: the store performs them in issue order, and the Ready contract's order
    // (term/vote, truncation, append) is the issue order. One await covers the whole group commit.
    const writes: Promise<void>[] = [];
    if (rd.hardState !== undefined) writes.push(store.setTermVote(rd.hardState));
    if (rd.truncateAfter !== undefined) writes.push(store.truncateAfter(rd.truncateAfter));
    if (rd.append.length > 0) {
      writes.push(store.append(rd.append));
      for (const r of rd.append) this.#bytesSinceSnapshot += r.data.length;
    }
    if (writes.length === 0) return;
    const results = await Promise.allSettled(writes);
    for (const r of results) {
      if (r.status === "rejected") {
        throw new ServerError("STORAGE", `group ${this.group}: WAL write failed`, {
          cause: r.reason,
        });
      }
    }
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
    const commands: AppliedCommand<TCommand>[] = [];
    const ids: string[] = [];
    let last = 0;
    for (const ce of committed) {
      last = ce.index;
      // Already contained in the snapshot the state machine was restored from.
      if (ce.index <= this.#snapshotIndex) continue;
      for (const e of ce.entries) {
        if (e.type !== EntryType.Normal) continue;
        const envelope = decodeProposal(e.data);
        if (envelope === undefined) {
          this.#undecodableEntries++;
          continue;
        }
        commands.push({ index: ce.index, command: envelope.command as TCommand });
        ids.push(envelope.id);
      }
    }
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
      for (let i = 0; i < ids.length; i++) this.#pending.resolve(ids[i] as string, results[i]);
    }
    if (last > this.#applied) {
      this.#entriesSinceSnapshot += last - Math.max(this.#applied, this.#snapshotIndex);
      this.#applied = last;
    }
    this.#node.applied(last);
  }

  #onRoleChange(rd: Ready): void {
    const node = this.#node;
    // Proposals accepted as leader in an earlier term, or before losing leadership, can no longer
    // be matched to a result reliably here: reject them (their outcome is unknown to the caller).
    const leaderTerm = node.state === RaftState.Leader ? node.term : -1;
    this.#pending.rejectInFlight(
      (term) => term === leaderTerm,
      () => this.#notLeader(),
    );
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
    const entries = policy.entries ?? 0;
    const bytes = policy.bytes ?? 0;
    return (
      (entries > 0 && this.#entriesSinceSnapshot >= entries) ||
      (bytes > 0 && this.#bytesSinceSnapshot >= bytes)
    );
  }

  /**
   * Saves the state machine's state at the applied index, between two batches so that it is
   * exactly the state after `applied`. The log is not compacted yet: `@raft/core` cannot yet send
   * a snapshot to a follower whose needed entries are gone (core part 2), so compaction would
   * strand slow followers.
   */
  async #takeSnapshot(): Promise<void> {
    const waiters = this.#snapshotWaiters.splice(0, this.#snapshotWaiters.length);
    try {
      const index = this.#applied;
      if (index > this.#snapshotIndex) {
        const term = this.#store.term(index);
        const data = await this.#o.config.stateMachine.snapshot();
        const peerState =
          this.#store.peerState ??
          encodePeerState({
            clusterSize: this.#node.clusterSize(),
            peers: this.#node.peers().map((p) => p.id),
            extState: 0,
          });
        await this.#store.saveSnapshot({ term, index, peerState, data });
        this.#snapshotIndex = index;
        this.#snapshotsTaken++;
        this.#entriesSinceSnapshot = 0;
        this.#bytesSinceSnapshot = 0;
        this.#o.logger.debug({ group: this.group, index, bytes: data.length }, "snapshot saved");
      }
      for (const w of waiters) w.resolve();
    } catch (error) {
      const e = new ServerError("STORAGE", `group ${this.group}: snapshot failed`, { cause: error });
      for (const w of waiters) w.reject(e);
      throw e;
    }
  }

  // --- errors and shutdown -----------------------------------------------------------------

  #notLeader(leaderHint?: string): ServerError {
    const leaderId = leaderHint || this.#node.leaderId;
    const leaderServerName = leaderId === "" ? undefined : this.#o.serverNameForNode(leaderId);
    return new ServerError(
      "NOT_LEADER",
      `group ${this.group}: not leader${leaderId === "" ? " (no known leader)" : ` (leader ${leaderId}${leaderServerName === undefined ? "" : ` on ${leaderServerName}`})`}`,
      { leaderId, leaderServerName },
    );
  }

  #closedError(cause?: unknown): ServerError {
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
    this.#o.wheel.cancel(this.group);
    for (const subject of [...this.#subs.keys()]) this.#unsubscribe(subject);
    this.#inbound.clear();
    this.#controls.length = 0;
    this.#pending.rejectAll(() => this.#closedError(cause));
    const closedError = this.#closedError(cause);
    for (const w of this.#snapshotWaiters.splice(0, this.#snapshotWaiters.length)) {
      w.reject(closedError);
    }
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
