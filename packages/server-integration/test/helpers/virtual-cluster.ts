import { nodeIdFromServerName, type RandomSource } from "@raft/codec";
import type { RaftTiming, UnsafeTestingFaults } from "@raft/core";
import type { Disk } from "@raft/wal";
import { createMemoryDisk } from "@raft/wal/testing";
import {
  createManualClock,
  createMemoryNetwork,
  createRaftServer,
  createSeededRandom,
  type ManualClock,
  type MemoryFabric,
  type MemoryNetwork,
  type RaftGroup,
  type RaftServer,
  type ServerLimits,
  type SnapshotPolicy,
} from "../../src/index";
import { type AppendCommand, ListStateMachine } from "./log-state-machine";
import { seededSource } from "./seeded-source";

/** The test seed: `SEED=123 pnpm test` replays a run. */
export function testSeed(fallback: number): number {
  const env = process.env["SEED"];
  return env === undefined ? fallback : Number(env);
}

export const FAST_TIMING: RaftTiming = {
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  heartbeatIntervalMs: 50,
  lostQuorumIntervalMs: 1000,
  lostQuorumCheckMs: 200,
};

export interface Member {
  readonly name: string;
  readonly id: string;
  server: RaftServer;
  group: RaftGroup<AppendCommand, number>;
  sm: ListStateMachine;
  disk: Disk;
  fabric: MemoryFabric;
  up: boolean;
  logs: string[];
}

export interface VirtualClusterOptions {
  readonly seed: number;
  readonly size?: number;
  readonly group?: string;
  readonly limits?: ServerLimits;
  readonly snapshotPolicy?: SnapshotPolicy;
  /**
   * The disk a server process uses, asked at every start and restart (so that a harness can hand a
   * restarted process a fresh handle on the same bytes). Default: one memory disk per server.
   */
  readonly diskFor?: (name: string, clock: ManualClock) => Disk;
  readonly delayMs?: readonly [number, number];
  /** Planted protocol bugs, to show a test catches them. */
  readonly faults?: UnsafeTestingFaults;
}

/**
 * N servers on an in-memory network, one group each, driven by one virtual clock. Time moves only
 * in `runUntil`, which delivers the network and lets every driver loop settle before moving on, so
 * a run is a function of the seed (the memory disk completes in microtasks).
 */
export class VirtualCluster {
  readonly clock: ManualClock;
  readonly network: MemoryNetwork;
  readonly members: Member[] = [];
  readonly group: string;
  readonly seed: number;
  readonly #options: VirtualClusterOptions;
  readonly #random: RandomSource;

  constructor(options: VirtualClusterOptions) {
    this.#options = options;
    this.seed = options.seed;
    this.group = options.group ?? "G1";
    this.clock = createManualClock(1000);
    this.#random = seededSource(options.seed);
    this.network = createMemoryNetwork({
      random: createSeededRandom(options.seed),
      delivery: "manual",
    });
    this.network.setFaults({ delayMs: options.delayMs ?? [1, 3] });
  }

  names(): string[] {
    return Array.from({ length: this.#options.size ?? 3 }, (_, i) => `server-${i + 1}`);
  }

  async start(): Promise<void> {
    const ids = this.names().map(nodeIdFromServerName);
    for (const name of this.names()) {
      const disk = this.#options.diskFor?.(name, this.clock) ?? createMemoryDisk();
      const member = await this.#boot(name, disk, ids, true);
      this.members.push(member);
    }
  }

  async #boot(name: string, disk: Disk, ids: string[], bootstrap: boolean): Promise<Member> {
    const fabric = this.network.createFabric(name);
    const logs: string[] = [];
    const server = createRaftServer({
      serverName: name,
      clusterName: "test",
      dataDir: `/data/${name}`,
      disk,
      fabric,
      clock: this.clock,
      random: seededSource(this.#random.nextUint32()),
      timing: FAST_TIMING,
      logger: {
        debug: () => {},
        info: (o, m) => {
          if (m === "group initialised") logs.push(`info ${m} ${JSON.stringify(o)}`);
        },
        warn: (o, m) =>
          logs.push(
            `warn ${m} ${JSON.stringify(o, (_k, v) => (v instanceof Error ? `${v.message} <- ${String(v.cause)}` : v))}`,
          ),
        error: (o, m) =>
          logs.push(
            `error ${m} ${JSON.stringify(o, (_k, v) => (v instanceof Error ? `${v.message} <- ${String(v.cause)}` : v))}`,
          ),
      },
      ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
    });
    for (const other of this.names()) server.registerServer(other, "test");
    const sm = new ListStateMachine();
    const config = {
      group: this.group,
      stateMachine: sm,
      ...(this.#options.snapshotPolicy === undefined
        ? {}
        : { snapshotPolicy: this.#options.snapshotPolicy }),
      ...(this.#options.faults === undefined ? {} : { unsafeTestingFaults: this.#options.faults }),
    };
    if (bootstrap) await server.bootstrapRaftNode(config, ids, true);
    const group = await server.startRaftNode(config);
    return {
      name,
      id: nodeIdFromServerName(name),
      server,
      group,
      sm,
      disk,
      fabric,
      up: true,
      logs,
    };
  }

  /** Stops a member's server and closes its fabric (as a process exit would). */
  async stop(member: Member): Promise<void> {
    member.up = false;
    await member.server.close();
    await member.fabric.close();
  }

  /** Restarts a stopped member from the same disk. */
  async restart(member: Member): Promise<void> {
    const ids = this.names().map(nodeIdFromServerName);
    const disk = this.#options.diskFor?.(member.name, this.clock) ?? member.disk;
    const fresh = await this.#boot(member.name, disk, ids, false);
    member.disk = disk;
    member.server = fresh.server;
    member.group = fresh.group;
    member.sm = fresh.sm;
    member.fabric = fresh.fabric;
    member.logs = fresh.logs;
    member.up = true;
  }

  /** One line per member: role, term, log and apply progress, recent warnings. */
  describe(): string {
    return this.members
      .map((m) => {
        const s = m.group.status();
        return `${m.name} ${m.up ? "up" : "down"} ${s.state} term=${s.term} leader=${s.leaderId} last=${s.lastIndex} commit=${s.commit} applied=${s.applied} wal=[${s.wal.firstIndex},${s.wal.lastIndex}] snap=${s.snapshot.index} invalid=${s.queues.invalidDropped} logs=${m.logs.slice(-3).join(" | ")}`;
      })
      .join("\n");
  }

  live(): Member[] {
    return this.members.filter((m) => m.up);
  }

  leader(): Member | undefined {
    return this.live().find((m) => m.group.isLeader());
  }

  /** Lets every pending microtask chain (driver loops, memory disk) finish. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * Runs virtual time until `done()` holds, at most `maxMs` of virtual time; throws (with the
   * seed) when it does not.
   */
  async runUntil(done: () => boolean, maxMs: number, what: string): Promise<void> {
    const end = this.clock.now() + maxMs;
    for (let steps = 0; steps < 1_000_000; steps++) {
      this.network.deliverDue(this.clock.now());
      await this.settle();
      if (done()) return;
      const candidates = [this.clock.nextTimerAt(), this.network.nextDueAt()].filter(
        (t): t is number => t !== undefined,
      );
      const next = Math.max(this.clock.now(), Math.min(...candidates, end));
      if (next >= end && this.clock.now() >= end) break;
      this.clock.advanceTo(next);
    }
    throw new Error(
      `${what}: not reached within ${maxMs} virtual ms (SEED=${this.seed})\n${this.describe()}`,
    );
  }

  /** Runs the cluster for `ms` of virtual time. */
  async runFor(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (let steps = 0; steps < 1_000_000; steps++) {
      this.network.deliverDue(this.clock.now());
      await this.settle();
      if (this.clock.now() >= end) return;
      const candidates = [this.clock.nextTimerAt(), this.network.nextDueAt()].filter(
        (t): t is number => t !== undefined,
      );
      this.clock.advanceTo(Math.min(...candidates, end));
    }
  }

  /** Runs virtual time until `promise` settles, then returns its outcome. */
  async outcome<T>(
    promise: Promise<T>,
    maxMs: number,
    what: string,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    promise.then(
      (value) => {
        result = { ok: true, value };
      },
      (error: unknown) => {
        result = { ok: false, error };
      },
    );
    await this.runUntil(() => result !== undefined, maxMs, what);
    return result as { ok: true; value: T } | { ok: false; error: unknown };
  }

  async electLeader(): Promise<Member> {
    await this.runUntil(() => this.leader() !== undefined, 30_000, "leader elected");
    return this.leader() as Member;
  }

  async close(): Promise<void> {
    for (const m of this.live()) await m.server.close();
    this.network.close();
  }
}
