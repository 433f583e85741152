import {
  decodePeerState,
  encodePeerState,
  isNodeId,
  isValidGroupToken,
  newInbox,
  nodeIdFromServerName,
  type RandomSource,
  toError,
} from "@raft/codec";
import { createRaftNode, type DamagedRecord } from "@raft/core";
import { createNodeDisk, type Disk, type GroupStore, openGroupStore } from "@raft/wal";
import { GroupDriver, type ResolvedLimits, type StoreRef } from "../driver/group-driver";
import { createStoreLogView } from "../driver/log-view";
import {
  finishRejoin,
  finishWipe,
  rejoinPending,
  wipeGroupDirectory,
  wipePending,
} from "../driver/store-wipe";
import type { Fabric } from "../fabric/types";
import { createSystemClock } from "../timer/system-clock";
import { createTimerWheel, type TimerWheel } from "../timer/timer-wheel";
import { createCryptoRandom } from "./crypto-random";
import { ServerError } from "./server-error";
import type {
  Clock,
  GroupStatus,
  RaftGroup,
  RaftGroupConfig,
  RaftServer,
  RaftServerOptions,
  ServerLimits,
  ServerLogger,
  ServerStats,
} from "./types";

/** Defaults of {@link ServerLimits}. */
export const DEFAULT_SERVER_LIMITS: Required<ServerLimits> = Object.freeze({
  inboundQueueMax: 8192,
  pendingProposalsMax: 4096,
  proposalTimeoutMs: 30_000,
  proposalBytesMax: 1024 * 1024,
});

const noopLogger: ServerLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * Creates a {@link RaftServer}. Nothing runs until groups are started; the fabric stays owned by
 * the caller.
 *
 * @throws ServerError `INVALID_ARGUMENT` for an empty server name or invalid limits.
 */
export function createRaftServer(options: RaftServerOptions): RaftServer {
  return new RaftServerImpl(options);
}

interface ServerInfo {
  readonly serverName: string;
  readonly clusterName: string | undefined;
}

function resolveLimits(limits: ServerLimits | undefined): ResolvedLimits {
  const resolved = { ...DEFAULT_SERVER_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new ServerError("INVALID_ARGUMENT", `limits.${name} must be an integer ≥ 1`);
    }
  }
  return resolved;
}

type AnyDriver = GroupDriver<unknown, unknown>;

class RaftServerImpl implements RaftServer {
  readonly serverName: string;
  readonly clusterName: string;
  readonly nodeId: string;
  readonly #dataDir: string;
  readonly #disk: Disk;
  readonly #fabric: Fabric;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #logger: ServerLogger;
  readonly #limits: ResolvedLimits;
  readonly #wheel: TimerWheel;
  readonly #options: RaftServerOptions;
  readonly #groups = new Map<string, RaftGroup>();
  /** Groups being initialised, so that two concurrent inits of one name cannot both succeed. */
  readonly #opening = new Set<string>();
  readonly #servers = new Map<string, ServerInfo>();
  readonly #proposalIdPrefix: string;
  #closed = false;
  #unknownGroupDropped = 0;

  constructor(options: RaftServerOptions) {
    if (options.serverName === "") {
      throw new ServerError("INVALID_ARGUMENT", "serverName must not be empty");
    }
    this.#options = options;
    this.serverName = options.serverName;
    this.clusterName = options.clusterName;
    this.nodeId = nodeIdFromServerName(options.serverName);
    this.#dataDir = options.dataDir.replace(/\/+$/, "");
    this.#disk = options.disk ?? createNodeDisk();
    this.#fabric = options.fabric;
    this.#clock = options.clock ?? createSystemClock();
    this.#random = options.random ?? createCryptoRandom();
    this.#logger = options.logger ?? noopLogger;
    this.#limits = resolveLimits(options.limits);
    this.#wheel = createTimerWheel(this.#clock);
    // Unique per process: a restarted server never matches an entry proposed by its former self.
    this.#proposalIdPrefix = `${newInbox(this.#random)}${newInbox(this.#random)}`;
    this.registerServer(options.serverName, options.clusterName);
  }

  async bootstrapRaftNode(
    config: RaftGroupConfig<unknown, unknown>,
    knownPeers: readonly string[],
    allKnown: boolean,
  ): Promise<void> {
    this.#checkOpen();
    this.#checkGroupName(config.group);
    for (const id of knownPeers) {
      if (!isNodeId(id)) {
        throw new ServerError(
          "INVALID_ARGUMENT",
          `peer id ${JSON.stringify(id)} is not 8 characters`,
        );
      }
    }
    const peers = [...new Set([...knownPeers, this.nodeId])];
    const clusterSize = allKnown ? peers.length : Math.max(2, peers.length, this.#servers.size);
    const store = await this.#openStore(config);
    try {
      // A group that already has peer state keeps it: bootstrapping is for new groups only, and
      // a restart that calls it again must not reset membership.
      if (store.peerState === undefined) {
        await store.setPeerState(encodePeerState({ clusterSize, peers, extState: 0 }));
        this.#logger.info({ group: config.group, peers, clusterSize }, "group bootstrapped");
      }
    } catch (error) {
      throw new ServerError("STORAGE", `group ${config.group}: writing peer state failed`, {
        cause: error,
      });
    } finally {
      await store.close().catch(() => {});
    }
  }

  async initRaftNode<TCommand, TResult>(
    config: RaftGroupConfig<TCommand, TResult>,
  ): Promise<RaftGroup<TCommand, TResult>> {
    this.#checkOpen();
    this.#checkGroupName(config.group);
    if (this.#groups.has(config.group) || this.#opening.has(config.group)) {
      throw new ServerError(
        "ALREADY_EXISTS",
        `group ${config.group} already exists on this server`,
      );
    }
    this.#opening.add(config.group);
    try {
      const driver = await this.#createDriver(config);
      this.#groups.set(config.group, driver as unknown as RaftGroup);
      return driver;
    } finally {
      this.#opening.delete(config.group);
    }
  }

  async startRaftNode<TCommand, TResult>(
    config: RaftGroupConfig<TCommand, TResult>,
  ): Promise<RaftGroup<TCommand, TResult>> {
    const group = await this.initRaftNode(config);
    (group as unknown as AnyDriver).start();
    return group;
  }

  registerRaftNode(group: RaftGroup): void {
    this.#checkOpen();
    const existing = this.#groups.get(group.group);
    if (existing !== undefined && existing !== group) {
      throw new ServerError("ALREADY_EXISTS", `group ${group.group} already registered`);
    }
    this.#groups.set(group.group, group);
  }

  unregisterRaftNode(group: string): void {
    this.#groups.delete(group);
  }

  lookupRaftNode(group: string): RaftGroup | undefined {
    return this.#groups.get(group);
  }

  numRaftNodes(): number {
    return this.#groups.size;
  }

  async stepdownRaftNodes(): Promise<void> {
    await this.#stepDownAll();
  }

  async shutdownRaftNodes(): Promise<void> {
    await Promise.all([...this.#groups.values()].map((g) => g.stop()));
  }

  transferRaftLeaders(): Promise<boolean> {
    return this.#stepDownAll();
  }

  serverNameForNode(id: string): string | undefined {
    return this.#serverInfo(id)?.serverName;
  }

  clusterNameForNode(id: string): string | undefined {
    return this.#serverInfo(id)?.clusterName;
  }

  registerServer(serverName: string, clusterName?: string): void {
    if (serverName === "") return;
    this.#servers.set(nodeIdFromServerName(serverName), { serverName, clusterName });
  }

  status(): readonly GroupStatus[] {
    return [...this.#groups.values()].map((g) => g.status());
  }

  stats(): ServerStats {
    let inboundDropped = 0;
    let invalidDropped = 0;
    for (const g of this.#groups.values()) {
      const q = g.status().queues;
      inboundDropped += q.inboundDropped;
      invalidDropped += q.invalidDropped;
    }
    return {
      groups: this.#groups.size,
      unknownGroupDropped: this.#unknownGroupDropped,
      inboundDropped,
      invalidDropped,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.shutdownRaftNodes();
    this.#closed = true;
    this.#wheel.close();
  }

  // --- internals -----------------------------------------------------------------------------

  async #stepDownAll(): Promise<boolean> {
    const results = await Promise.all(
      [...this.#groups.values()].map(async (g) => {
        const stepped = await g.stepDown();
        g.setObserver(true);
        return stepped;
      }),
    );
    return results.some((r) => r);
  }

  #serverInfo(id: string): ServerInfo | undefined {
    const known = this.#servers.get(id);
    if (known !== undefined) return known;
    // Route fabrics know their peers by name from the handshake; learn them lazily.
    const routes = (this.#fabric as { routes?: () => readonly { name: string }[] }).routes;
    if (typeof routes === "function") {
      for (const r of routes.call(this.#fabric)) {
        if (!this.#servers.has(nodeIdFromServerName(r.name))) {
          this.registerServer(r.name, this.clusterName);
        }
      }
    }
    return this.#servers.get(id);
  }

  /**
   * Refuses to start a group whose durable Raft state was lost to damage, instead of starting it
   * with defaults: a node that forgot its vote could vote twice in one term (two leaders), and one
   * that forgot its snapshot cannot rebuild a compacted log. The operator removes the group's
   * directory; the server then rejoins as a new, empty member and catches up from the leader.
   */
  #refuseLostState(group: string, store: GroupStore): void {
    const damaged = store.recovery.damagedStateCopies;
    const lost = (prefix: string): boolean => damaged.some((name) => name.startsWith(`${prefix}.`));
    const tv = store.termVote;
    if (lost("tav") && tv.term === 0 && tv.vote === "") {
      throw new ServerError(
        "STORAGE",
        `group ${group}: the term/vote file is damaged (${damaged.join(", ")}); starting would risk a second vote in a term — remove the group directory to rejoin as a new member`,
      );
    }
    if (lost("peers") && store.peerState === undefined) {
      throw new ServerError(
        "STORAGE",
        `group ${group}: the peer-state file is damaged (${damaged.join(", ")}) — remove the group directory to rejoin as a new member`,
      );
    }
    // The WAL falls back to the newest snapshot that verifies. That is only enough when the log
    // continues right after it: an older snapshot still on disk (a crash came between writing the
    // newer one and deleting it) below a log compacted by the damaged newer one leaves a gap, and
    // core's start-up compaction drops every stored record after a gap, as nats-server does.
    // Those are records this node acknowledged: it could then vote for a candidate missing
    // committed entries (simulator seed 3256).
    const usableFrom = (store.snapshotMeta?.index ?? 0) + 1;
    if (store.recovery.invalidSnapshots.length > 0 && store.firstIndex > usableFrom) {
      throw new ServerError(
        "STORAGE",
        `group ${group}: the snapshot is damaged (${store.recovery.invalidSnapshots.join(", ")}) and the log before index ${store.firstIndex} is compacted — remove the group directory to rejoin as a new member`,
      );
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new ServerError("CLOSED", `server ${this.serverName} is closed`);
  }

  #checkGroupName(group: string): void {
    if (!isValidGroupToken(group)) {
      throw new ServerError("INVALID_ARGUMENT", `group name ${JSON.stringify(group)} is invalid`);
    }
  }

  #storeDir(config: RaftGroupConfig<unknown, unknown>): string {
    return config.storeDir ?? `${this.#dataDir}/${config.group}`;
  }

  async #openStore(config: RaftGroupConfig<unknown, unknown>): Promise<GroupStore> {
    const dir = this.#storeDir(config);
    try {
      if (await wipePending(this.#disk, dir)) await this.#finishInterruptedWipe(config, dir);
      return await this.#rawOpen(config, dir);
    } catch (error) {
      throw new ServerError("STORAGE", `group ${config.group}: opening the store failed`, {
        cause: error,
      });
    }
  }

  #rawOpen(config: RaftGroupConfig<unknown, unknown>, dir: string): Promise<GroupStore> {
    return openGroupStore(dir, {
      disk: this.#disk,
      ...(this.#options.syncPolicy === undefined ? {} : { syncPolicy: this.#options.syncPolicy }),
      logger: {
        warn: (message, details) => this.#logger.warn({ group: config.group, ...details }, message),
      },
    });
  }

  /**
   * A `reset()` wipe was cut short by a crash: the directory may hold any part of the old store.
   * Redo the wipe and write what the wipe's `Ready` would have written (term 0, no vote, this node
   * alone as peer state, as core's `reset()` leaves them), then drop the marker.
   */
  async #finishInterruptedWipe(
    config: RaftGroupConfig<unknown, unknown>,
    dir: string,
  ): Promise<void> {
    this.#logger.warn({ group: config.group }, "finishing a reset interrupted by a crash");
    // The rejoin marker, if the wipe needed one, was made durable before the wipe began.
    await wipeGroupDirectory(this.#disk, dir, false);
    const store = await this.#rawOpen(config, dir);
    try {
      await store.setTermVote({ term: 0, vote: "" });
      await store.setPeerState(
        encodePeerState({ clusterSize: 1, peers: [this.nodeId], extState: 0 }),
      );
    } finally {
      await store.close();
    }
    await finishWipe(this.#disk, dir);
  }

  async #createDriver<TCommand, TResult>(
    config: RaftGroupConfig<TCommand, TResult>,
  ): Promise<GroupDriver<TCommand, TResult>> {
    const store = await this.#openStore(config as RaftGroupConfig<unknown, unknown>);
    try {
      const recovery = store.recovery;
      if (
        recovery.truncatedTail !== undefined ||
        recovery.lostTail !== undefined ||
        recovery.corrupt.length > 0 ||
        recovery.damagedStateCopies.length > 0 ||
        recovery.invalidSnapshots.length > 0
      ) {
        // Degraded, not fatal. Corrupt records stay in the log and go to core as `damaged` (below):
        // it refetches them from the leader and never truncates because of them.
        //
        // A truncated tail alone is the last write round that was not durable when the process
        // died: every message that promises something about a record (append-entry responses,
        // votes) leaves only after the fsync of that record's Ready (`afterPersist`), so no peer
        // was told we hold those records and forgetting them is safe. When records that *were*
        // synced are gone (a bit flip in the last synced round looks like a torn write; a
        // misdirected write leaves the file no longer), the WAL's durable mark says so in
        // `lostTail`, and core gets it: it then votes as the node that acknowledged them would
        // have and does not campaign until a leader has re-sent them (ADR 0006). Under
        // `syncPolicy: { intervalMs }` appends are acknowledged before the fsync, so a power loss
        // can still cut acknowledged records unnoticed; that policy is documented as giving up
        // this guarantee.
        this.#logger.warn(
          {
            group: config.group,
            truncatedTail: recovery.truncatedTail,
            lostTail: recovery.lostTail,
            corrupt: recovery.corrupt.length,
            damagedStateCopies: recovery.damagedStateCopies,
            invalidSnapshots: recovery.invalidSnapshots,
          },
          "wal recovered with findings",
        );
      }
      this.#refuseLostState(config.group, store);
      const peerBytes = store.peerState;
      if (peerBytes === undefined) {
        throw new ServerError(
          "NOT_BOOTSTRAPPED",
          `group ${config.group} has no peer state: bootstrapRaftNode first`,
        );
      }
      let peerState: ReturnType<typeof decodePeerState>;
      try {
        peerState = decodePeerState(peerBytes);
      } catch (error) {
        throw new ServerError("STORAGE", `group ${config.group}: peer state is invalid`, {
          cause: error,
        });
      }
      // Core restores through the log: the snapshot comes back as the first committed entry.
      const snapshot = store.snapshotMeta === undefined ? undefined : await store.loadSnapshot();
      const snapshotIndex = snapshot?.index ?? 0;
      const peers = peerState.peers.includes(this.nodeId)
        ? peerState.peers
        : [...peerState.peers, this.nodeId];
      const timing = config.timing ?? this.#options.timing;
      // Damaged records with their term when the record's header survived (the WAL answers
      // `term(i)` then; only the payload is lost), unknown otherwise. Core asks the leader for them.
      const damaged: DamagedRecord[] = recovery.corrupt.map((index) => {
        try {
          return { index, term: store.term(index) };
        } catch {
          return { index };
        }
      });
      const storeRef: StoreRef = { current: store };
      const dir = this.#storeDir(config as RaftGroupConfig<unknown, unknown>);
      const rejoining = await rejoinPending(this.#disk, dir);
      const node = createRaftNode({
        id: this.nodeId,
        group: config.group,
        peers,
        clusterSize: Math.max(peerState.clusterSize, 1),
        now: this.#clock.now(),
        random: this.#random,
        log: createStoreLogView(() => storeRef.current),
        hardState: store.termVote,
        ...(damaged.length === 0 ? {} : { damaged }),
        ...(recovery.lostTail === undefined ? {} : { lostTail: recovery.lostTail }),
        ...(snapshot === undefined ? {} : { snapshot }),
        ...(config.observer === undefined && !rejoining
          ? {}
          : { observer: rejoining || config.observer === true }),
        ...(timing === undefined ? {} : { timing }),
        ...(config.dialect === undefined ? {} : { dialect: config.dialect }),
        ...(config.unsafeTestingFaults === undefined
          ? {}
          : { unsafeTestingFaults: config.unsafeTestingFaults }),
      });
      this.#logger.info(
        {
          group: config.group,
          nodeId: this.nodeId,
          term: store.termVote.term,
          firstIndex: store.firstIndex,
          lastIndex: store.lastIndex,
          snapshotIndex,
          damaged: damaged.map((d) => d.index),
        },
        "group initialised",
      );
      return new GroupDriver<TCommand, TResult>({
        config,
        node,
        store: storeRef,
        wiper: {
          wipeAndReopen: async (rejoin) => {
            await wipeGroupDirectory(this.#disk, dir, rejoin);
            return this.#rawOpen(config as RaftGroupConfig<unknown, unknown>, dir);
          },
          finish: () => finishWipe(this.#disk, dir),
          rejoined: () => finishRejoin(this.#disk, dir),
        },
        rejoining,
        fabric: this.#fabric,
        clock: this.#clock,
        wheel: this.#wheel,
        logger: this.#logger,
        limits: this.#limits,
        proposalIdPrefix: this.#proposalIdPrefix,
        snapshotIndex,
        serverNameForNode: (id) => this.serverNameForNode(id),
        onDroppedAfterStop: () => {
          this.#unknownGroupDropped++;
        },
        onStopped: (driver) => {
          if (this.#groups.get(driver.group) === (driver as unknown as RaftGroup)) {
            this.#groups.delete(driver.group);
          }
        },
      });
    } catch (error) {
      await store.close().catch(() => {});
      if (error instanceof ServerError) throw error;
      throw new ServerError("STORAGE", `group ${config.group}: init failed`, {
        cause: toError(error),
      });
    }
  }
}
