import { decodeVoteRequest, decodeVoteResponse, nodeIdFromServerName, toError } from "@raft/codec";
import type { RaftTiming, UnsafeTestingFaults } from "@raft/core";
import type { FaultyDisk } from "@raft/wal/testing";
import type { MemoryFabric, MemoryNetwork } from "../../fabric/memory-network";
import type { Fabric, FabricMessage, Subscription } from "../../fabric/types";
import { createRaftServer } from "../../server/raft-server";
import type {
  AppliedCommand,
  RaftGroup,
  RaftServer,
  ServerLimits,
  ServerLogger,
  SnapshotPolicy,
  StateMachine,
} from "../../server/types";
import { createSimClock } from "./sim-clock";
import { createSimDisk, type DiskOwner } from "./sim-disk";
import type { SimHost } from "./sim-host";
import type { SimRandom } from "./sim-random";
import type { AnySimWorkload } from "./workload";

/**
 * Called for every index a replica applies (with the commands it carried, one append entry may
 * carry several), to check that all replicas apply the same ones in order.
 */
export type ApplyObserver = (
  node: string,
  group: string,
  index: number,
  commands: readonly unknown[],
  previous: number,
) => void;

/** What every process of the run shares. */
export interface NodeEnvironment {
  readonly host: SimHost;
  readonly network: MemoryNetwork;
  readonly names: readonly string[];
  readonly workloads: readonly AnySimWorkload[];
  readonly timing: RaftTiming;
  readonly limits: ServerLimits;
  readonly snapshotPolicy: SnapshotPolicy | undefined;
  readonly unsafeTestingFaults: UnsafeTestingFaults | undefined;
  readonly onApply: ApplyObserver;
  /** A group of a live process stopped by itself (fatal storage or state-machine error). */
  readonly onGroupFailed: (node: SimNode) => void;
}

/** One process lifetime of a node: its server, fabric, groups and replicas. */
export class Incarnation {
  readonly number: number;
  dead = false;
  server: RaftServer | undefined;
  fabric: MemoryFabric | undefined;
  readonly groups: Map<string, RaftGroup<unknown, unknown>> = new Map();
  readonly machines: Map<string, StateMachine<unknown, unknown>> = new Map();
  readonly applied: Map<string, number> = new Map();
  /** Groups up and running (boot finished). */
  ready = false;

  constructor(number: number) {
    this.number = number;
  }
}

/**
 * A simulated machine: a name, a {@link FaultyDisk} that outlives processes, and the current
 * process (an {@link Incarnation}) if one runs. Pauses hold every input (timers, messages, disk
 * completions, client requests) until resume; crashes abandon the process without any flush.
 */
export class SimNode implements DiskOwner {
  readonly name: string;
  readonly id: string;
  readonly disk: FaultyDisk;
  readonly #env: NodeEnvironment;
  readonly #random: SimRandom;
  inc: Incarnation | undefined;
  #incarnations = 0;
  #paused = false;
  #held: (() => void)[] = [];
  #offset = 0;
  #full = false;
  /** Set by the fault schedule: this node may get bit flips and misdirected writes. */
  damageable = false;
  /** Bootstrap done once (peer state written): later boots only open the store. */
  #bootstrapped = false;
  /** Consecutive failed boots, for the retry backoff. */
  bootFailures = 0;
  #syncs = 0;
  #slow = false;

  constructor(name: string, disk: FaultyDisk, env: NodeEnvironment, random: SimRandom) {
    this.name = name;
    this.id = nodeIdFromServerName(name);
    this.disk = disk;
    this.#env = env;
    this.#random = random;
  }

  alive(): boolean {
    return this.inc !== undefined && !this.inc.dead;
  }

  /** Running: alive, booted and not paused. */
  running(): boolean {
    return this.alive() && !this.#paused && (this.inc as Incarnation).ready;
  }

  paused(): boolean {
    return this.#paused;
  }

  whenRunning(fn: () => void): void {
    if (!this.alive()) return;
    if (this.#paused) this.#held.push(fn);
    else fn();
  }

  syncLatency(): number {
    // Mostly fast, with latency spikes (a busy device): they widen the window between a write
    // and its durability, where a crash shows whether anything was promised too early.
    if (this.#slow) return this.#random.between(20, 300);
    return this.#random.chance(0.1) ? this.#random.between(5, 150) : this.#random.between(0, 4);
  }

  slowDisk(): boolean {
    return this.#slow;
  }

  setSlowDisk(slow: boolean): void {
    this.#slow = slow;
  }

  diskFull(): boolean {
    return this.#full;
  }

  syncsInFlight(delta: number): void {
    this.#syncs += delta;
  }

  /** fsyncs issued by the current process and not completed yet: bytes at risk on power loss. */
  unsyncedWrites(): number {
    return this.#syncs;
  }

  setDiskFull(full: boolean): void {
    this.#full = full;
  }

  /** Clock offset in ms (clock jumps). */
  get offset(): number {
    return this.#offset;
  }

  jumpClock(ms: number): void {
    this.#offset += Math.max(0, ms);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const held = this.#held;
    this.#held = [];
    for (const fn of held) {
      if (!this.alive()) break;
      fn();
    }
  }

  /**
   * Kills the process at once: nothing is flushed or closed gracefully. With `powerLoss` the disk
   * loses its unsynced writes too (the last one possibly torn); without, the page cache survives
   * (a process crash).
   */
  kill(powerLoss: boolean): void {
    const inc = this.inc;
    if (inc !== undefined) {
      inc.dead = true;
      void inc.fabric?.close();
    }
    this.inc = undefined;
    this.#paused = false;
    this.#held = [];
    this.#syncs = 0;
    if (powerLoss) this.disk.crash({ tornWrites: true });
  }

  /**
   * Starts a new process on the same disk. Resolves when every group is started (or rejects when
   * the boot failed, leaving the process dead). Never awaited by the simulation loop: the boot's
   * own disk syncs complete through the scheduler.
   */
  async boot(): Promise<void> {
    const env = this.#env;
    const host = env.host;
    const inc = new Incarnation(++this.#incarnations);
    this.inc = inc;
    this.#paused = false;
    const fabric = env.network.createFabric(this.name);
    inc.fabric = fabric;
    const owner: DiskOwner = {
      name: this.name,
      alive: () => !inc.dead,
      whenRunning: (fn) => {
        if (!inc.dead) this.whenRunning(fn);
      },
      syncLatency: () => this.syncLatency(),
      diskFull: () => this.#full,
      syncsInFlight: (delta) => {
        if (!inc.dead) this.#syncs += delta;
      },
    };
    const server = createRaftServer({
      serverName: this.name,
      clusterName: "sim",
      dataDir: `/data/${this.name}`,
      disk: createSimDisk(this.disk, owner, host),
      fabric: wrapFabric(fabric, owner, host, (id) =>
        env.names.find((n) => nodeIdFromServerName(n) === id),
      ),
      clock: createSimClock(host, owner, () => this.#offset),
      random: this.#random.fork().asSource(),
      logger: traceLogger(host, this.name, inc),
      limits: env.limits,
      timing: env.timing,
    });
    inc.server = server;
    for (const other of env.names) server.registerServer(other, "sim");
    const ids = env.names.map((n) => nodeIdFromServerName(n));
    for (const w of env.workloads) {
      const machine = w.createStateMachine();
      inc.machines.set(w.group, machine);
      inc.applied.set(w.group, 0);
      const config = {
        group: w.group,
        stateMachine: observeMachine(
          machine,
          (commands) => {
            if (inc.dead) return;
            host.activity++;
            let last = inc.applied.get(w.group) ?? 0;
            let i = 0;
            while (i < commands.length) {
              const index = (commands[i] as AppliedCommand<unknown>).index;
              const same: unknown[] = [];
              for (
                ;
                i < commands.length && (commands[i] as AppliedCommand<unknown>).index === index;
                i++
              ) {
                same.push((commands[i] as AppliedCommand<unknown>).command);
              }
              env.onApply(this.name, w.group, index, same, last);
              if (index > last) last = index;
            }
            inc.applied.set(w.group, last);
          },
          () => {
            // A snapshot replaces the state: the indexes it covers are never applied one by one.
            if (!inc.dead) inc.applied.set(w.group, 0);
          },
        ),
        ...(env.snapshotPolicy === undefined ? {} : { snapshotPolicy: env.snapshotPolicy }),
        ...(env.unsafeTestingFaults === undefined
          ? {}
          : { unsafeTestingFaults: env.unsafeTestingFaults }),
      };
      if (!this.#bootstrapped) await server.bootstrapRaftNode(config, ids, true);
      if (inc.dead) return;
      const group = await server.startRaftNode(config);
      if (inc.dead) return;
      inc.groups.set(w.group, group as RaftGroup<unknown, unknown>);
      group.onLeadChange((e) => {
        if (inc.dead) return;
        host.trace.write(
          host.scheduler.now,
          this.name,
          "role",
          `${w.group} ${e.isLeader ? "leader" : "follower"} term ${e.term}`,
        );
      });
    }
    this.#bootstrapped = true;
    inc.ready = true;
    this.bootFailures = 0;
    // Watch for groups that stop by themselves (storage or state-machine failure).
    for (const group of inc.groups.values()) {
      void group.replayed().catch(() => {
        if (!inc.dead) env.onGroupFailed(this);
      });
    }
  }
}

/**
 * Wraps a process's state machine so that the simulator sees every applied command (state-machine
 * safety) before the user's code does.
 */
function observeMachine(
  machine: StateMachine<unknown, unknown>,
  observe: (commands: readonly AppliedCommand<unknown>[]) => void,
  onRestore: () => void,
): StateMachine<unknown, unknown> {
  return {
    apply(commands) {
      observe(commands);
      return machine.apply(commands);
    },
    snapshot: () => machine.snapshot(),
    restore(data) {
      onRestore();
      return machine.restore(data);
    },
  };
}

/**
 * A process's fabric: deliveries to a paused process wait for resume (as bytes wait in a socket
 * buffer), deliveries to a dead one vanish, and every delivery is traced.
 */
function wrapFabric(
  inner: MemoryFabric,
  owner: DiskOwner,
  host: SimHost,
  nameOf: (id: string) => string | undefined,
): Fabric {
  // Reply subjects of vote requests received, with the candidate's name: a publish to one of them
  // is this process's vote.
  const voteReplies = new Map<string, string>();
  return {
    serverName: inner.serverName,
    publish(subject, reply, data) {
      host.activity++;
      const candidate = voteReplies.get(subject);
      if (candidate !== undefined && host.onVoteGranted !== undefined) {
        voteReplies.delete(subject);
        try {
          const response = decodeVoteResponse(data);
          if (response.granted) {
            const result = inner.publish(subject, reply, data);
            host.onVoteGranted(owner.name, candidate, response.term);
            return result;
          }
        } catch {
          // Not a vote response after all: nothing to target.
        }
      }
      return inner.publish(subject, reply, data);
    },
    subscribe(subject, handler): Subscription {
      return inner.subscribe(subject, (msg: FabricMessage) => {
        if (msg.reply !== undefined && msg.subject.startsWith("$NRG.V.")) {
          try {
            const candidate = nameOf(decodeVoteRequest(msg.data).candidate);
            if (candidate !== undefined) voteReplies.set(msg.reply, candidate);
          } catch {
            // A malformed request: the node drops it too.
          }
        }
        owner.whenRunning(() => {
          if (host.trace.enabled) {
            host.trace.write(
              host.scheduler.now,
              owner.name,
              "recv",
              describeSubject(msg.subject, msg.data.length),
            );
          }
          handler(msg);
        });
      });
    },
    metrics: () => inner.metrics(),
    close: () => inner.close(),
  };
}

function describeSubject(subject: string, bytes: number): string {
  // `$NRG.AE.kv` → `AE kv`; reply inboxes (`$NRG.R.xxxx`, `$NRG.CR.xxxx`) keep their kind only.
  const parts = subject.split(".");
  const kind = parts[1] ?? subject;
  const group =
    parts.length === 3 && (kind === "AE" || kind === "V" || kind === "P" || kind === "RP")
      ? ` ${parts[2]}`
      : "";
  return `${kind}${group} ${bytes}B`;
}

/** Writes warnings and errors of a process to the trace (they are rare and tell a story). */
function traceLogger(host: SimHost, name: string, inc: Incarnation): ServerLogger {
  const write = (level: string, obj: object, msg: string): void => {
    if (inc.dead || !host.trace.enabled) return;
    const err = (obj as { err?: unknown }).err;
    const group = (obj as { group?: unknown }).group;
    // A lost tail decides how the node votes until it is repaired (ADR 0006): worth a trace line.
    const lost = (obj as { lostTail?: { index: number; term: number } }).lostTail;
    const detail =
      (err === undefined ? "" : `: ${describeError(err)}`) +
      (lost === undefined ? "" : ` (lost tail up to ${lost.index}:${lost.term})`);
    host.trace.write(
      host.scheduler.now,
      name,
      level,
      `${typeof group === "string" ? `${group} ` : ""}${msg}${detail}`,
    );
  };
  return {
    debug: () => {},
    info: () => {},
    warn: (obj, msg) => write("warn", obj, msg),
    error: (obj, msg) => write("error", obj, msg),
  };
}

/** `code: message` of an error and its causes, on one line. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e !== undefined && depth < 4; depth++) {
    const err = toError(e);
    const code = (err as { code?: unknown }).code;
    parts.push(`${typeof code === "string" ? `${code} ` : ""}${err.message}`);
    e = (err as { cause?: unknown }).cause;
  }
  return parts.join(" <- ");
}
