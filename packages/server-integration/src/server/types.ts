/**
 * The public API of `RaftServer`: the effectful shell that hosts many `@raft/core` groups on one
 * server, persists them with `@raft/wal`, connects them through a {@link Fabric}, and applies their
 * committed entries to user {@link StateMachine}s. Method names follow nats-server's server-level
 * Raft functions (nats-raft-spec §6).
 */

import type { Dialect, RandomSource } from "@raft/codec";
import type { RaftState, RaftTiming, UnsafeTestingFaults } from "@raft/core";
import type { Disk, SyncPolicy } from "@raft/wal";
import type { Fabric } from "../fabric/types";

/** Opaque id of a timer armed with {@link Clock.setTimer}. */
export type TimerId = number;

/**
 * The time port. `now()` is a monotonic millisecond clock (not wall time); timers fire
 * `callback` once, no earlier than `delayMs` after they were armed. The default implementation
 * (`createSystemClock`) uses `performance.now()` and `setTimeout`; tests inject a virtual clock.
 */
export interface Clock {
  now(): number;
  setTimer(delayMs: number, callback: () => void): TimerId;
  /** Cancels a timer; a no-op for a timer that already fired or was cleared. */
  clearTimer(id: TimerId): void;
}

/**
 * A pino-shaped logger port (`logger.warn({ group, err }, "wal write failed")`). Only the app
 * imports pino; the default is a no-op.
 */
export interface ServerLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Bounds of every queue of a server. All are per group unless stated. */
export interface ServerLimits {
  /**
   * Inbound messages waiting for the driver loop. When full, new messages are dropped and
   * counted (Raft retransmits). Default 8192.
   */
  readonly inboundQueueMax?: number;
  /**
   * Proposals accepted but not yet resolved (queued, or appended and waiting for commit and
   * apply). Beyond it `propose` rejects with `OVERLOADED`. Default 4096.
   */
  readonly pendingProposalsMax?: number;
  /** A proposal not applied within this time rejects with `TIMEOUT`. Default 30 000 ms. */
  readonly proposalTimeoutMs?: number;
  /** Largest encoded proposal accepted by `propose` (`OVERLOADED` above). Default 1 MiB. */
  readonly proposalBytesMax?: number;
}

/** Options of `createRaftServer`. */
export interface RaftServerOptions {
  /** This server's unique name; every group on it uses `nodeIdFromServerName(serverName)`. */
  readonly serverName: string;
  /** Name of the cluster this server belongs to (reported by `clusterNameForNode`). */
  readonly clusterName: string;
  /** Root directory of every group's store: a group's store is `<dataDir>/<group>` by default. */
  readonly dataDir: string;
  /** Where bytes go. Default `createNodeDisk()` (real files). */
  readonly disk?: Disk;
  /** The message fabric this server publishes and subscribes through. Not closed by the server. */
  readonly fabric: Fabric;
  /** Default: the system clock (`performance.now()`, `setTimeout`). */
  readonly clock?: Clock;
  /** Randomness of election timeouts, inboxes and proposal ids. Default: `node:crypto`. */
  readonly random?: RandomSource;
  /** Default: no-op. */
  readonly logger?: ServerLogger;
  readonly limits?: ServerLimits;
  /** WAL durability of appends. Default `"always"` (fsync before anything is acknowledged). */
  readonly syncPolicy?: SyncPolicy;
  /** Default Raft timing of groups that do not set their own (nats-server defaults otherwise). */
  readonly timing?: RaftTiming;
}

/** One committed, decoded command handed to {@link StateMachine.apply}. */
export interface AppliedCommand<TCommand> {
  /** The Raft index of the append entry that carried it. */
  readonly index: number;
  readonly command: TCommand;
}

/**
 * The user's replicated state machine. The server calls it from one group's driver loop only, one
 * call at a time, never concurrently. A returned Promise is awaited before anything else of the
 * group proceeds, so a slow state machine slows the group down (backpressure) instead of queueing.
 */
export interface StateMachine<TCommand, TResult> {
  /**
   * Applies committed commands, in log order, each exactly once per process lifetime (after a
   * restart they are replayed from the last snapshot on). Returns one result per command, in the
   * same order; results are handed to the `propose` calls that created the commands on this server.
   * Throwing closes the group (`STATE_MACHINE`): applying must be deterministic.
   */
  apply(
    commands: readonly AppliedCommand<TCommand>[],
  ): readonly TResult[] | Promise<readonly TResult[]>;
  /** Serialises the whole state (as of the last applied command). The server owns the bytes. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the whole state by the one `snapshot()` produced. */
  restore(data: Uint8Array): void | Promise<void>;
}

/**
 * When to take a snapshot: after either threshold is crossed since the last one (0 or absent =
 * that threshold is off; both off = never).
 */
export interface SnapshotPolicy {
  /** Applied indexes since the last snapshot. */
  readonly entries?: number;
  /** Bytes appended to the WAL since the last snapshot. */
  readonly bytes?: number;
}

/** Configuration of one group (nats-server's RaftConfig). */
export interface RaftGroupConfig<TCommand = unknown, TResult = unknown> {
  /** The group name, a valid subject token (`_meta_`, `S-R3F-xxxxxxxx`, `kv`, ...). */
  readonly group: string;
  /** Store directory of the group. Default `<dataDir>/<group>`. */
  readonly storeDir?: string;
  /** Where committed commands are applied. Commands must be MessagePack-encodable. */
  readonly stateMachine: StateMachine<TCommand, TResult>;
  readonly timing?: RaftTiming;
  /** Start as an observer (replicates and applies, never campaigns). */
  readonly observer?: boolean;
  readonly snapshotPolicy?: SnapshotPolicy;
  /** Wire dialect of frames. Default `"current"`. */
  readonly dialect?: Dialect;
  /** Test only: planted protocol bugs (see `@raft/core`). Never in production. */
  readonly unsafeTestingFaults?: UnsafeTestingFaults;
}

/** One peer of a group, for monitoring (`/raftz`). */
export interface PeerStatus {
  readonly id: string;
  /** The server hosting it, when known (`serverNameForNode`). */
  readonly serverName: string | undefined;
  /** Heard from within the lost-quorum window. */
  readonly current: boolean;
  /** Milliseconds since the last message from it; `undefined` if never heard from. */
  readonly lastContactMs: number | undefined;
  /** As leader: commit minus the peer's acknowledged index; 0 otherwise. */
  readonly lag: number;
}

/** WAL statistics of one group. */
export interface WalStatus {
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly sizeBytes: number;
  /** fdatasync calls on log segments since open. */
  readonly syncs: number;
  /** Durable-mark writes (each with its own fdatasync) since open: about one per append round. */
  readonly markSyncs: number;
  /** Append calls since open. */
  readonly appends: number;
  readonly records: number;
  /** `appends / syncs` (group-commit factor); 0 before the first sync. */
  readonly appendsPerSync: number;
  readonly maxAppendsPerSync: number;
}

/** Queue depths and drop counters of one group. */
export interface QueueStatus {
  readonly inbound: number;
  readonly inboundMax: number;
  /** Inbound messages dropped because the queue was full. */
  readonly inboundDropped: number;
  /** Proposals queued or waiting for apply. */
  readonly pendingProposals: number;
  readonly pendingProposalsMax: number;
  /** Proposals rejected with `OVERLOADED`. */
  readonly proposalsRejected: number;
  /** Inbound messages core dropped as undecodable or foreign. */
  readonly invalidDropped: number;
  /** Committed Normal entries whose payload is not a proposal envelope of this package. */
  readonly undecodableEntries: number;
}

/** The last snapshot of a group. */
export interface SnapshotStatus {
  /** Index covered by the newest snapshot, 0 when none. */
  readonly index: number;
  /** Snapshots taken by this process. */
  readonly taken: number;
  /** Whether the log is compacted after snapshots (always `true` in this version). */
  readonly compacting: boolean;
}

/** A point-in-time view of one group, for monitoring. */
export interface GroupStatus {
  readonly group: string;
  readonly id: string;
  readonly state: RaftState;
  readonly term: number;
  /** Known leader id, `""` when none. */
  readonly leaderId: string;
  readonly leaderServerName: string | undefined;
  /** Leader with its election no-op applied (accepting proposals). */
  readonly isLeader: boolean;
  readonly observer: boolean;
  readonly healthy: boolean;
  readonly lastIndex: number;
  readonly commit: number;
  readonly applied: number;
  readonly clusterSize: number;
  readonly quorumNeeded: number;
  readonly peers: readonly PeerStatus[];
  readonly wal: WalStatus;
  readonly queues: QueueStatus;
  readonly snapshot: SnapshotStatus;
  /**
   * Local storage damage still waiting for a leader's copy (ADR 0004, ADR 0006): how many damaged
   * records are not repaired yet, and the lost tail (`{ index, term }` of synced records the store
   * lost) that keeps this server from campaigning and binds its votes until a leader re-sent it.
   */
  readonly localDamage: {
    readonly damagedRecords: number;
    readonly lostTail: { readonly index: number; readonly term: number } | undefined;
  };
  /** Ready batches processed by the driver loop. */
  readonly readies: number;
}

/** A lead change as seen by listeners of {@link RaftGroup.onLeadChange}. */
export interface LeadChangeEvent {
  readonly group: string;
  readonly isLeader: boolean;
  readonly term: number;
  /** Leader id, `""` when none known. */
  readonly leaderId: string;
}

/**
 * A running group on this server (nats-server's RaftNode, at the level users need). Obtained from
 * `initRaftNode` / `startRaftNode` / `lookupRaftNode`.
 */
export interface RaftGroup<TCommand = unknown, TResult = unknown> {
  /** The group name. */
  readonly group: string;
  /** This server's node id in the group. */
  readonly id: string;
  /**
   * Replicates `command` and resolves with the state machine's result once it is committed and
   * applied on this server (durable on a quorum). Rejections say what happened to the command:
   * - `NOT_LEADER` (with `leaderId`, `leaderServerName` when known): it was **not** applied and
   *   never will be — refused because this node is not leader, or dropped by a leader change
   *   (detected once an entry of a later term is applied). Safe to retry on the leader.
   * - `OVERLOADED` (too many pending proposals, or larger than `proposalBytesMax`),
   *   `INVALID_ARGUMENT` (not MessagePack-encodable): not applied.
   * - `TIMEOUT` (not applied within `proposalTimeoutMs`, or the state was replaced by a snapshot
   *   while it was in flight) and `CLOSED` (the group stopped while it was in flight): the outcome
   *   is **unknown**; it may still be applied.
   */
  propose(command: TCommand): Promise<TResult>;
  /** State (`follower`, `candidate`, `leader`, `closed`); `closed` once stopped. */
  state(): RaftState;
  /** Leader with its election no-op applied: `propose` can succeed. */
  isLeader(): boolean;
  /** Known leader id, `""` when none. */
  leaderId(): string;
  /** Current term. */
  term(): number;
  /**
   * Leader only: step down, optionally naming the preferred successor. Resolves once the driver
   * loop processed the request; `false` when this node was not leader.
   */
  stepDown(preferred?: string): Promise<boolean>;
  /**
   * Leader only: adds `peer` (an 8-character node id) to the group, one change at a time.
   * Resolves once the change is committed. Rejects `NOT_LEADER`, `MEMBERSHIP` (`reason`:
   * `IN_PROGRESS`, `ALREADY_MEMBER`, `INVALID_PEER`, ...; `LOST` when a leader change dropped it),
   * `TIMEOUT`, `OVERLOADED`, `CLOSED`.
   */
  proposeAddPeer(peer: string): Promise<void>;
  /**
   * Removes `peer` from the group (a follower forwards the request to the leader). Resolves once
   * this server sees the removal committed. Same rejections as `proposeAddPeer` (`UNKNOWN_PEER`,
   * `LAST_PEER`). A server removing itself stops the group once the removal commits.
   */
  proposeRemovePeer(peer: string): Promise<void>;
  /** Current members' node ids (this node first when it is one). */
  peerNames(): readonly string[];
  /**
   * Wipes this server's copy of the group (core `reset()`, nats-raft-spec §5.16): the log,
   * snapshots, term and vote are deleted durably, the peer state becomes this node alone, and the
   * state machine is put back to its state before anything was applied (what `snapshot()` returned
   * before the first apply). The node then rejoins as an empty follower and gets the history again
   * from the leader. Proposals in flight reject `TIMEOUT` (outcome unknown). Resolves once the
   * wipe is durable; rejects `CLOSED` if the group stops first (a failed wipe stops it with
   * `STORAGE`; a crash during the wipe makes the next `initRaftNode` finish it). Unsafe like
   * nats-server's `Reset`: forgetting a vote allows a second vote in the same term, so use it
   * only on a node that is not needed for quorum.
   */
  reset(): Promise<void>;
  /**
   * The error that stopped the group, sticky: `STORAGE` after a failed WAL write or fsync (core
   * was told with `reportWriteError` and closed), `STATE_MACHINE` after the state machine threw.
   * `undefined` while running and after an ordinary `stop()`. Every call on a stopped group
   * rejects `CLOSED` with this error as `cause`.
   */
  error(): Error | undefined;
  /** Start an election soon (after 100–800 ms). */
  campaign(): void;
  /** Observer mode: replicate and apply, never campaign. Applied by the loop shortly after. */
  setObserver(observer: boolean): void;
  /**
   * Takes a snapshot now (if anything was applied since the last one) and compacts the log up to
   * it. Resolves once the snapshot is durable.
   */
  snapshot(): Promise<void>;
  /**
   * A linearizable read barrier (leader only): resolves with the applied index once a quorum
   * confirmed this server still leads and the state machine applied everything committed when
   * the call was made, so that a read of the state machine right then is linearizable. Rejects
   * `NOT_LEADER`, `TIMEOUT`, `OVERLOADED`, `CLOSED`.
   */
  readBarrier(): Promise<number>;
  /** A point-in-time view for monitoring. */
  status(): GroupStatus;
  /** Called on every lead change of this node; returns the function that removes the listener. */
  onLeadChange(listener: (event: LeadChangeEvent) => void): () => void;
  /**
   * Resolves once start-up replay is done: every command committed before the restart is applied.
   */
  replayed(): Promise<void>;
  /** Stops the group: pending proposals reject `CLOSED`, the WAL is closed, it is unregistered. */
  stop(): Promise<void>;
}

/** Server-level counters. */
export interface ServerStats {
  readonly groups: number;
  /**
   * Messages delivered to a subscription of a group that is no longer running on this server
   * (stopped or unregistered while the message was in flight). A message for a group this server
   * never hosted is not delivered at all (no interest) and is counted by the fabric.
   */
  readonly unknownGroupDropped: number;
  /** Sum of the groups' inbound drops (queue full). */
  readonly inboundDropped: number;
  /** Sum of the groups' invalid (undecodable or foreign) inbound messages. */
  readonly invalidDropped: number;
}

/**
 * A server hosting many Raft groups. One driver loop per group; one timer wheel for all of them.
 */
export interface RaftServer {
  /** This server's name. */
  readonly serverName: string;
  /** This server's cluster name. */
  readonly clusterName: string;
  /** This server's node id (8 characters), the same in every group. */
  readonly nodeId: string;
  /**
   * Writes the initial peer state of a group that has none yet (`knownPeers`: 8-character node
   * ids, this server's included or not). Cluster size: `knownPeers.length` (self added) when
   * `allKnown`, else at least 2 and at least the number of servers known through the fabric.
   * Rejects `INVALID_ARGUMENT` (bad id or group), `STORAGE`.
   */
  bootstrapRaftNode(
    config: RaftGroupConfig<unknown, unknown>,
    knownPeers: readonly string[],
    allKnown: boolean,
  ): Promise<void>;
  /**
   * Opens the group's store (term/vote, peer state, snapshot, WAL), restores the snapshot, creates
   * the core node and registers it. The driver loop is not running yet. Rejects
   * `NOT_BOOTSTRAPPED`, `ALREADY_EXISTS`, `INVALID_ARGUMENT`, `STORAGE`.
   */
  initRaftNode<TCommand, TResult>(
    config: RaftGroupConfig<TCommand, TResult>,
  ): Promise<RaftGroup<TCommand, TResult>>;
  /** `initRaftNode` and start the driver loop (replay begins, timers armed, subjects subscribed). */
  startRaftNode<TCommand, TResult>(
    config: RaftGroupConfig<TCommand, TResult>,
  ): Promise<RaftGroup<TCommand, TResult>>;
  /** Adds a group to the registry. `ALREADY_EXISTS` if the name is taken by another group. */
  registerRaftNode(group: RaftGroup): void;
  /** Removes a group from the registry (does not stop it). */
  unregisterRaftNode(group: string): void;
  /** The registered group of that name, if any. */
  lookupRaftNode(group: string): RaftGroup | undefined;
  /** Number of registered groups. */
  numRaftNodes(): number;
  /** Every group: step down if leader and become an observer (before shutdown). */
  stepdownRaftNodes(): Promise<void>;
  /** Stops every group. */
  shutdownRaftNodes(): Promise<void>;
  /** Lame duck: every group steps down and becomes an observer; true if any stepped down. */
  transferRaftLeaders(): Promise<boolean>;
  /** The server name hosting node `id`, when known. */
  serverNameForNode(id: string): string | undefined;
  /** The cluster name of node `id`'s server, when known. */
  clusterNameForNode(id: string): string | undefined;
  /**
   * Records that `serverName` (in `clusterName`) exists: its node id maps to it. Route handshakes
   * and the app call this; servers the fabric reports (route peers) are added automatically.
   */
  registerServer(serverName: string, clusterName?: string): void;
  /** A status of every registered group. */
  status(): readonly GroupStatus[];
  stats(): ServerStats;
  /** Stops every group and the timer wheel. The fabric is left open (the caller owns it). */
  close(): Promise<void>;
}
