import type { RaftTiming, UnsafeTestingFaults } from "@raft/core";
import { createFaultyDisk } from "@raft/wal/testing";
import { createMemoryNetwork } from "../../fabric/memory-network";
import { ServerError } from "../../server/server-error";
import type { RaftGroup, ServerLimits, SnapshotPolicy } from "../../server/types";
import { Nemesis, type SimFaultOptions } from "./faults";
import { hostTurn } from "./host-turn";
import { ClusterInvariants, type SimViolation } from "./invariants";
import { kvWorkload } from "./kv-workload";
import { queueWorkload } from "./queue-workload";
import { Scheduler } from "./scheduler";
import type { SimHost } from "./sim-host";
import { describeError, SimNode } from "./sim-node";
import { SimRandom } from "./sim-random";
import { Trace } from "./trace";
import type { AnySimWorkload, SimOperation, SimOutcome, SimReplica } from "./workload";

/** Raft timing of simulated groups: short, so that a run covers many elections. */
export const SIM_TIMING: RaftTiming = Object.freeze({
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  heartbeatIntervalMs: 50,
  // A deposed leader keeps believing it leads for up to 3 s (nats-server: 10 s): the window in
  // which only a read barrier keeps it from answering stale reads.
  lostQuorumIntervalMs: 3000,
  lostQuorumCheckMs: 500,
  campaignMinMs: 20,
  campaignMaxMs: 100,
  catchupStallMs: 500,
});

/** Options of {@link simulate}. */
export interface SimulationOptions {
  /** The run's only source of randomness: same seed, same run (and byte-identical trace). */
  readonly seed: number;
  /** Servers: 3 or 5. Default 3. */
  readonly nodes?: 3 | 5;
  /** Events of the safety phase (timers, deliveries, fsyncs, client steps, faults). Default 20,000. */
  readonly events?: number;
  /** Virtual-time cap of the safety phase, in ms. Default 600,000. */
  readonly maxSimulatedMs?: number;
  /**
   * After every fault is healed, a new write must be acknowledged within this much virtual time,
   * and the replicas must then converge within as much again. Default 20,000 ms.
   */
  readonly livenessTimeoutMs?: number;
  /** Fault kinds of the safety phase (all on by default), or `"none"`. */
  readonly faults?: SimFaultOptions | "none";
  /**
   * Creates the run's workloads, one Raft group each. Default: the KV workload and the queue
   * workload. A factory, because workloads keep per-run state.
   */
  readonly workloads?: () => readonly AnySimWorkload[];
  /**
   * Run the costlier invariants (commit monotonicity through `status()`, the workloads'
   * `invariant`) every this many events; leaders and terms are checked after every event.
   * Default 8.
   */
  readonly invariantEvery?: number;
  /**
   * `"hash"` (default): the trace is hashed only; `"lines"`: kept in the result; `"off"`: not even
   * hashed (fastest).
   */
  readonly trace?: "off" | "hash" | "lines";
  /** Receives every trace line as it is written (the CLI prints them). */
  readonly onTrace?: (line: string) => void;
  /**
   * Whether replicas that do not catch up after the heal are a violation (`convergence`). Default
   * true. With false, the run records them in `unconverged` and the final checks allow a replica
   * to lack a suffix of the committed log (never anything else).
   */
  readonly requireConvergence?: boolean;
  /** Test only: planted protocol bugs of `@raft/core`, to show that the run catches them. */
  readonly unsafeTestingFaults?: UnsafeTestingFaults;
  /** Raft timing of every group. Default {@link SIM_TIMING}. */
  readonly timing?: RaftTiming;
}

/** Counts of client operations by outcome. */
export interface SimOperationCounts {
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
}

/** What one run did and found. */
export interface SimulationResult {
  readonly seed: number;
  /** No violation. */
  readonly ok: boolean;
  /** Every violation, in the order found (the run stops at the first one of the safety phase). */
  readonly violations: readonly SimViolation[];
  /** All events run (both phases). */
  readonly events: number;
  readonly safetyEvents: number;
  /** Virtual time at the end, in ms. */
  readonly simulatedMs: number;
  /** Virtual ms from the heal until the first write invoked after it was acknowledged. */
  readonly progressAfterHealMs: number | undefined;
  /** 64-bit hash of the trace, 16 hex digits (`""` with `trace: "off"`). */
  readonly traceHash: string;
  readonly traceLineCount: number;
  /** The trace lines, with `trace: "lines"`. */
  readonly trace: readonly string[];
  /** Faults injected, by kind. */
  readonly faults: Readonly<Record<string, number>>;
  /** Client operations per workload group. */
  readonly operations: Readonly<Record<string, SimOperationCounts>>;
  /** Node restarts (after crashes, failed groups and failed boots). */
  readonly restarts: number;
  /** The command that replays this run. */
  readonly replay: string;
  /** With `requireConvergence: false`: why the replicas did not converge, if they did not. */
  readonly unconverged: string | undefined;
}

const DEFAULT_FAULTS: Required<SimFaultOptions> = {
  network: true,
  partitions: true,
  crashes: true,
  pauses: true,
  clockJumps: true,
  corruption: true,
  diskFull: true,
  slowDisk: true,
};

const NO_FAULTS: Required<SimFaultOptions> = {
  network: false,
  partitions: false,
  crashes: false,
  pauses: false,
  clockJumps: false,
  corruption: false,
  diskFull: false,
  slowDisk: false,
};

const LIMITS: ServerLimits = { proposalTimeoutMs: 800, pendingProposalsMax: 256 };
const CLIENT_TIMEOUT_MS = 1000;

/** The replay command printed for a failing seed. */
export function replayCommand(seed: number): string {
  return `pnpm sim --seed ${seed}`;
}

/**
 * Runs one deterministic simulation: N `RaftServer`s (the real core, driver loop and WAL over a
 * fault-injecting in-memory disk) on one virtual clock and an in-memory network, with client
 * workloads, all from `options.seed`.
 *
 * 1. **Safety phase**: `events` events with seeded faults (see {@link SimFaultOptions}); the
 *    cluster invariants are checked after every event; the run stops at the first violation.
 * 2. **Liveness phase**: every fault is healed and every node restarted; a write invoked after
 *    the heal must be acknowledged within `livenessTimeoutMs`; clients then stop and the replicas
 *    must converge.
 * 3. **Final checks**: each workload's `check` (KV: linearizability; queue: lost / unexpected /
 *    divergent) over the full history and the converged replicas.
 *
 * Never reads real time and arms no timer; see `hostTurn` for the one host facility it uses.
 * Resolves with the result (violations included); rejects only for invalid options
 * (`ServerError` `INVALID_ARGUMENT`).
 */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const run = new SimulationRun(options);
  return run.run();
}

interface OpenOperation {
  readonly workload: AnySimWorkload;
  readonly client: number;
  readonly command: unknown;
  readonly node: SimNode;
  readonly call: number;
  done: boolean;
}

class SimulationRun {
  readonly #o: SimulationOptions;
  readonly #host: SimHost;
  readonly #random: SimRandom;
  readonly #network: ReturnType<typeof createMemoryNetwork>;
  readonly #nodes: SimNode[] = [];
  readonly #workloads: readonly AnySimWorkload[];
  readonly #invariants = new ClusterInvariants();
  readonly #nemesis: Nemesis;
  readonly #clientRandom: SimRandom;
  readonly #history = new Map<string, SimOperation<unknown, unknown>[]>();
  readonly #leaderHint = new Map<string, SimNode>();
  readonly #restartPending = new Set<SimNode>();
  #events = 0;
  #historyClock = 0;
  #clientsActive = true;
  #restarts = 0;
  #open = 0;
  #healCall: number | undefined;
  #healAt = 0;
  #progressAt: number | undefined;
  #unconverged: string | undefined;

  constructor(options: SimulationOptions) {
    validate(options);
    this.#o = options;
    const trace = new Trace(options.trace ?? "hash", options.onTrace);
    this.#host = { scheduler: new Scheduler(), trace, activity: 0, onVoteGranted: undefined };
    this.#random = new SimRandom(options.seed);
    const netRandom = this.#random.fork();
    this.#network = createMemoryNetwork({ random: () => netRandom.next(), delivery: "manual" });
    // 1 ms on every link: links stay FIFO (as NATS routes are) until the fault schedule says not.
    this.#network.setFaults({ delayMs: [1, 1] });
    this.#workloads = (options.workloads ?? (() => [kvWorkload(), queueWorkload()]))();
    const groups = new Set<string>();
    for (const w of this.#workloads) {
      if (groups.has(w.group))
        throw new ServerError("INVALID_ARGUMENT", `two workloads use group ${w.group}`);
      groups.add(w.group);
      this.#history.set(w.group, []);
    }
    const names = Array.from({ length: options.nodes ?? 3 }, (_, i) => `n${i + 1}`);
    const snapshotPolicy: SnapshotPolicy | undefined = this.#random.chance(0.5)
      ? { entries: this.#random.between(20, 200) }
      : undefined;
    const env = {
      host: this.#host,
      network: this.#network,
      names,
      workloads: this.#workloads,
      timing: options.timing ?? SIM_TIMING,
      limits: LIMITS,
      snapshotPolicy,
      unsafeTestingFaults: options.unsafeTestingFaults,
      onApply: (
        node: string,
        group: string,
        index: number,
        commands: readonly unknown[],
        previous: number,
      ) => this.#invariants.onApply(node, group, index, commands, previous),
      onGroupFailed: (node: SimNode) => this.#groupFailed(node),
    };
    for (const name of names) {
      const disk = createFaultyDisk({ seed: this.#random.u32() });
      this.#nodes.push(new SimNode(name, disk, env, this.#random.fork()));
    }
    const faults = options.faults === "none" ? NO_FAULTS : { ...DEFAULT_FAULTS, ...options.faults };
    this.#nemesis = new Nemesis({
      host: this.#host,
      network: this.#network,
      nodes: this.#nodes,
      random: this.#random.fork(),
      faults,
      restartLater: (node, delayMs) => this.#restartLater(node, delayMs),
    });
    this.#clientRandom = this.#random.fork();
    this.#host.onVoteGranted = (voter, candidate, term) =>
      this.#nemesis.voteGranted(voter, candidate, term);
  }

  async run(): Promise<SimulationResult> {
    const host = this.#host;
    const o = this.#o;
    const trace = host.trace;
    trace.write(
      0,
      "-",
      "start",
      `seed ${o.seed}, ${this.#nodes.length} nodes, workloads ${this.#workloads.map((w) => w.group).join(",")}`,
    );
    for (const node of this.#nodes) this.#restartLater(node, 0);
    for (const w of this.#workloads) {
      for (let c = 0; c < w.clients; c++)
        this.#scheduleClient(w, c, this.#clientRandom.between(200, 400));
    }
    this.#schedule(1000, "-", "fault", () => this.#nemesis.start());

    // Safety phase.
    const safetyEvents = o.events ?? 20_000;
    const maxMs = o.maxSimulatedMs ?? 600_000;
    await this.#runWhile(() => this.#events < safetyEvents && host.scheduler.now < maxMs);
    const safetyDone = this.#events;

    // Liveness phase: heal, then require progress.
    const liveMs = o.livenessTimeoutMs ?? 20_000;
    if (this.#invariants.violations.length === 0) {
      this.#nemesis.healAll();
      this.#healCall = this.#historyClock;
      this.#healAt = host.scheduler.now;
      const deadline = this.#healAt + liveMs;
      await this.#runWhile(() => this.#progressAt === undefined && host.scheduler.now < deadline);
      if (this.#progressAt === undefined && this.#invariants.violations.length === 0) {
        this.#fail(
          "liveness",
          `no write invoked after the heal was acknowledged within ${liveMs} ms`,
        );
      }
    }
    // Drain: clients stop, open operations finish or time out, replicas converge.
    if (this.#invariants.violations.length === 0) {
      this.#clientsActive = false;
      const deadline = host.scheduler.now + liveMs;
      await this.#runWhile(
        () => !(this.#open === 0 && this.#converged()) && host.scheduler.now < deadline,
      );
      if (!this.#converged()) {
        const detail = `replicas did not converge within ${liveMs} ms: ${this.#describeProgress()}`;
        if (o.requireConvergence ?? true) this.#fail("convergence", detail);
        else {
          this.#unconverged = detail;
          host.trace.write(host.scheduler.now, "-", "lagging", detail);
        }
      }
    }
    if (this.#invariants.violations.length === 0) this.#finalChecks();

    trace.write(
      host.scheduler.now,
      "-",
      "end",
      `${this.#events} events, ${this.#invariants.violations.length} violations`,
    );
    const operations: Record<string, SimOperationCounts> = {};
    for (const [group, ops] of this.#history) {
      const count = (t: string): number => ops.filter((op) => op.outcome.type === t).length;
      operations[group] = { ok: count("ok"), fail: count("fail"), info: count("info") };
    }
    return {
      seed: o.seed,
      ok: this.#invariants.violations.length === 0,
      violations: [...this.#invariants.violations],
      events: this.#events,
      safetyEvents: safetyDone,
      simulatedMs: host.scheduler.now,
      progressAfterHealMs:
        this.#progressAt === undefined ? undefined : this.#progressAt - this.#healAt,
      traceHash: trace.enabled ? trace.hash() : "",
      traceLineCount: trace.count,
      trace: trace.lines,
      faults: { ...this.#nemesis.counts },
      operations,
      restarts: this.#restarts,
      replay: replayCommand(o.seed),
      unconverged: this.#unconverged,
    };
  }

  // --- the event loop ------------------------------------------------------------------------

  async #runWhile(condition: () => boolean): Promise<void> {
    const host = this.#host;
    const scheduler = host.scheduler;
    const every = this.#o.invariantEvery ?? 8;
    let sinceDeep = 0;
    while (condition() && this.#invariants.violations.length === 0) {
      const ta = scheduler.peekAt() ?? Number.POSITIVE_INFINITY;
      const tb = this.#network.nextDueAt() ?? Number.POSITIVE_INFINITY;
      const t = Math.min(ta, tb);
      if (t === Number.POSITIVE_INFINITY) break;
      scheduler.advanceTo(t);
      // Also moves the network's clock to `t`, so that what the event publishes leaves at `t`.
      const delivered = this.#network.deliverDue(t);
      let ran = delivered > 0;
      this.#events += delivered;
      if (tb > ta) {
        const event = scheduler.pop();
        if (event?.run() === true) {
          ran = true;
          this.#events++;
          if (event.kind === "timer" || event.kind === "fsync")
            host.trace.write(t, event.node, event.kind, "");
        }
      }
      if (!ran) continue;
      await this.#settle();
      this.#invariants.at(this.#events, scheduler.now);
      const deep = ++sinceDeep >= every;
      if (deep) sinceDeep = 0;
      this.#invariants.checkNodes(this.#nodes, deep);
      if (deep) this.#checkWorkloadInvariants();
      this.#superviseGroups();
    }
  }

  /**
   * Lets the promise chains started by the last event run before virtual time moves: at least
   * two host turns, more while the stack keeps calling its ports (bounded).
   */
  async #settle(): Promise<void> {
    const host = this.#host;
    for (let turns = 0; turns < 16; turns++) {
      const before = host.activity;
      await hostTurn();
      if (turns >= 1 && host.activity === before) return;
    }
  }

  #schedule(delayMs: number, node: string, kind: string, run: () => void): void {
    const s = this.#host.scheduler;
    s.schedule(s.now + delayMs, node, kind, () => {
      run();
      return true;
    });
  }

  #fail(kind: SimViolation["kind"], detail: string): void {
    this.#invariants.at(this.#events, this.#host.scheduler.now);
    this.#invariants.fail(kind, detail);
    this.#host.trace.write(
      this.#host.scheduler.now,
      "-",
      "VIOLATION",
      `${kind}: ${detail.split("\n")[0]}`,
    );
  }

  // --- processes ---------------------------------------------------------------------------

  #restartLater(node: SimNode, delayMs: number): void {
    if (this.#restartPending.has(node)) return;
    this.#restartPending.add(node);
    this.#schedule(delayMs, node.name, "boot", () => {
      this.#restartPending.delete(node);
      if (node.alive()) return;
      this.#restarts++;
      this.#host.trace.write(this.#host.scheduler.now, node.name, "boot", "process starts");
      node.boot().then(
        () => {
          if (node.inc?.ready === true)
            this.#host.trace.write(this.#host.scheduler.now, node.name, "boot", "groups started");
        },
        (error: unknown) => {
          node.bootFailures++;
          this.#host.trace.write(
            this.#host.scheduler.now,
            node.name,
            "boot",
            `failed: ${describeError(error)}`,
          );
          node.kill(false);
          this.#restartLater(node, Math.min(5000, 200 * node.bootFailures));
        },
      );
    });
  }

  #groupFailed(node: SimNode): void {
    if (!node.alive() || this.#restartPending.has(node)) return;
    this.#host.trace.write(
      this.#host.scheduler.now,
      node.name,
      "exit",
      "a group stopped by itself: process exits",
    );
    node.kill(false);
    this.#restartLater(node, 100 + this.#clientRandom.int(400));
  }

  /** A group that stopped by itself (storage or state-machine failure) makes its process exit. */
  #superviseGroups(): void {
    for (const node of this.#nodes) {
      const inc = node.inc;
      if (inc === undefined || inc.dead || !inc.ready) continue;
      for (const g of inc.groups.values()) {
        if (g.state() === "closed") {
          this.#groupFailed(node);
          break;
        }
      }
    }
  }

  // --- clients -----------------------------------------------------------------------------

  #scheduleClient(w: AnySimWorkload, client: number, delayMs: number): void {
    this.#schedule(delayMs, "-", "client", () => this.#clientStep(w, client));
  }

  /**
   * The server `client` sends to: its last known leader if that one still claims to lead, else a
   * random server among those that claim to (during a partition an old and a new leader may both
   * claim it, and clients then split between them, as real clients would).
   */
  #leaderFor(
    w: AnySimWorkload,
    client: number,
  ): { node: SimNode; group: RaftGroup<unknown, unknown> } | undefined {
    // Now and then a client reconnects to a random server, as clients behind a load balancer do.
    const hint = this.#clientRandom.chance(0.2)
      ? undefined
      : this.#leaderHint.get(`${w.group}/${client}`);
    const claims: { node: SimNode; group: RaftGroup<unknown, unknown> }[] = [];
    for (const node of this.#nodes) {
      if (!node.alive() || node.inc?.ready !== true) continue;
      const group = node.inc.groups.get(w.group);
      if (group === undefined) continue;
      // A client's request to a paused server waits in its socket: the pause is not visible.
      if ((node.paused() && node === hint) || (!node.paused() && group.isLeader())) {
        if (node === hint) return { node, group };
        claims.push({ node, group });
      }
    }
    return claims.length === 0 ? undefined : this.#clientRandom.pick(claims);
  }

  #clientStep(w: AnySimWorkload, client: number): void {
    if (!this.#clientsActive) return;
    const r = this.#clientRandom;
    const target = this.#leaderFor(w, client);
    if (target === undefined) {
      this.#scheduleClient(w, client, r.between(20, 100));
      return;
    }
    const { node, group } = target;
    const inc = node.inc;
    const command = w.nextCommand(client, r);
    const op: OpenOperation = {
      workload: w,
      client,
      command,
      node,
      call: ++this.#historyClock,
      done: false,
    };
    this.#open++;
    const trace = this.#host.trace;
    if (trace.enabled)
      trace.write(
        this.#host.scheduler.now,
        node.name,
        "invoke",
        `${w.group} c${client} ${JSON.stringify(command)}`,
      );
    const machine = inc?.machines.get(w.group);
    if (w.isReadOnly?.(command) === true && w.query !== undefined && machine !== undefined) {
      const query = w.query;
      node.whenRunning(() => {
        group.readBarrier().then(
          () => {
            if (node.inc === inc)
              this.#complete(op, { type: "ok", result: query(machine, command) });
          },
          (error: unknown) => {
            // A read that failed had no effect either way.
            if (node.inc === inc) this.#complete(op, { type: "fail", error: describeError(error) });
          },
        );
      });
    } else {
      this.#propose(op, group, inc);
    }
    this.#schedule(CLIENT_TIMEOUT_MS, node.name, "client", () => {
      if (!op.done) this.#complete(op, { type: "info", error: "client timeout" });
    });
    this.#leaderHint.set(`${w.group}/${client}`, node);
  }

  #propose(op: OpenOperation, group: RaftGroup<unknown, unknown>, inc: SimNode["inc"]): void {
    const { node, workload: w, command } = op;
    node.whenRunning(() => {
      group.propose(command).then(
        (result) => {
          // A dead process cannot deliver its answer.
          if (node.inc === inc) this.#complete(op, { type: "ok", result });
        },
        (error: unknown) => {
          if (node.inc !== inc) return;
          const code = (error as { code?: unknown }).code;
          if (code === "NOT_LEADER") {
            const name = (error as { leaderServerName?: unknown }).leaderServerName;
            const hinted = this.#nodes.find((n) => n.name === name);
            if (hinted !== undefined) this.#leaderHint.set(`${w.group}/${op.client}`, hinted);
            else this.#leaderHint.delete(`${w.group}/${op.client}`);
          }
          // OVERLOADED and INVALID_ARGUMENT are refused before anything is replicated; every
          // other failure may have been applied (or may still be).
          const definite = code === "OVERLOADED" || code === "INVALID_ARGUMENT";
          this.#complete(op, { type: definite ? "fail" : "info", error: describeError(error) });
        },
      );
    });
  }

  #complete(op: OpenOperation, outcome: SimOutcome<unknown>): void {
    if (op.done) return;
    op.done = true;
    this.#open--;
    const record: SimOperation<unknown, unknown> = {
      client: op.client,
      command: op.command,
      node: op.node.name,
      call: op.call,
      return: ++this.#historyClock,
      outcome,
    };
    (this.#history.get(op.workload.group) as SimOperation<unknown, unknown>[]).push(record);
    op.workload.onComplete?.(record);
    const trace = this.#host.trace;
    if (trace.enabled) {
      const shown =
        outcome.type === "ok" ? (JSON.stringify(outcome.result) ?? "undefined") : outcome.error;
      trace.write(
        this.#host.scheduler.now,
        op.node.name,
        outcome.type,
        `${op.workload.group} c${op.client} ${shown}`,
      );
    }
    if (
      outcome.type === "ok" &&
      this.#progressAt === undefined &&
      this.#healCall !== undefined &&
      op.call > this.#healCall
    ) {
      this.#progressAt = this.#host.scheduler.now;
    }
    if (outcome.type !== "ok") this.#leaderHint.delete(`${op.workload.group}/${op.client}`);
    this.#scheduleClient(op.workload, op.client, this.#clientRandom.between(0, 20));
  }

  // --- checks ------------------------------------------------------------------------------

  #replicas(w: AnySimWorkload, useStatus: boolean): SimReplica<unknown>[] {
    const out: SimReplica<unknown>[] = [];
    for (const node of this.#nodes) {
      const inc = node.inc;
      if (inc === undefined || inc.dead || !inc.ready) continue;
      const machine = inc.machines.get(w.group);
      const group = inc.groups.get(w.group);
      if (machine === undefined || group === undefined) continue;
      const applied = useStatus ? group.status().applied : (inc.applied.get(w.group) ?? 0);
      out.push({ node: node.name, machine, applied });
    }
    return out;
  }

  #checkWorkloadInvariants(): void {
    for (const w of this.#workloads) {
      if (w.invariant === undefined) continue;
      const problem = w.invariant(this.#replicas(w, false) as never);
      if (problem !== undefined) this.#fail("workload-invariant", problem);
    }
  }

  /**
   * Every undamaged node runs, and in every group all running replicas applied the leader's commit
   * index. A damaged node (at most f) may stay down: without log repair (core part 2) a node whose
   * files were corrupted refuses to start, which is the safe reaction.
   */
  #converged(): boolean {
    for (const node of this.#nodes) if (!node.running() && !node.damageable) return false;
    for (const w of this.#workloads) {
      let commit = -1;
      for (const node of this.#nodes) {
        const g = node.inc?.groups.get(w.group);
        if (g?.isLeader() === true) commit = g.status().commit;
      }
      if (commit < 0) return false;
      for (const r of this.#replicas(w, true)) if (r.applied !== commit) return false;
    }
    return true;
  }

  #describeProgress(): string {
    return this.#nodes
      .map((n) => {
        if (!n.alive()) return `${n.name} down`;
        if (!n.running()) return `${n.name} not running`;
        const groups = [...(n.inc?.groups ?? new Map<string, RaftGroup>()).values()].map((g) => {
          const s = g.status();
          return `${s.group} ${s.state} t${s.term} c${s.commit} a${s.applied}`;
        });
        return `${n.name} ${groups.join(" ")}`;
      })
      .join("; ");
  }

  #finalChecks(): void {
    for (const w of this.#workloads) {
      if (w.check === undefined) continue;
      const history = this.#history.get(w.group) as SimOperation<unknown, unknown>[];
      const context = { converged: this.#unconverged === undefined };
      for (const problem of w.check(history, this.#replicas(w, true) as never, context)) {
        this.#fail("history", problem);
      }
    }
  }
}

function validate(o: SimulationOptions): void {
  const bad = (what: string): never => {
    throw new ServerError("INVALID_ARGUMENT", `simulate: ${what}`);
  };
  if (!Number.isSafeInteger(o.seed)) bad("seed must be a safe integer");
  if (o.nodes !== undefined && o.nodes !== 3 && o.nodes !== 5) bad("nodes must be 3 or 5");
  if (o.events !== undefined && !(Number.isSafeInteger(o.events) && o.events >= 0))
    bad("events must be an integer ≥ 0");
  if (
    o.invariantEvery !== undefined &&
    !(Number.isSafeInteger(o.invariantEvery) && o.invariantEvery >= 1)
  ) {
    bad("invariantEvery must be an integer ≥ 1");
  }
  if (o.livenessTimeoutMs !== undefined && !(o.livenessTimeoutMs > 0))
    bad("livenessTimeoutMs must be > 0");
}
