import type { UnsafeTestingFaults } from "../types";
import { Cluster, nodeId } from "./cluster";
import { InvariantChecker, type Violation } from "./invariants";
import { Prng } from "./prng";

/** Options of {@link runChecker}. */
export interface CheckerOptions {
  readonly seed: number;
  /** Number of random steps. Default 2,000. */
  readonly steps?: number;
  /** Cluster size. Default: 3, 4 or 5, chosen by the seed. */
  readonly nodes?: number;
  /** Planted bugs (test only). */
  readonly faults?: UnsafeTestingFaults;
  /** Receives a one-line cluster summary every 50 steps (for debugging a seed). */
  readonly trace?: (line: string) => void;
}

/** Outcome of one checker run. */
export interface CheckerResult {
  readonly seed: number;
  readonly steps: number;
  /** The first violation, if any (the run stops there). */
  readonly violation: Violation | undefined;
  /** Step at which the violation was found. */
  readonly failedAt: number;
  /** Highest commit index any node reached: shows the run made progress. */
  readonly maxCommit: number;
  /** Distinct terms that had a leader. */
  readonly leaderTerms: number;
}

/** Timing for the checker: short timeouts so that many elections happen within 2,000 steps. */
const CHECKER_TIMING = {
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  heartbeatIntervalMs: 50,
  lostQuorumIntervalMs: 600,
  lostQuorumCheckMs: 200,
  campaignMinMs: 10,
  campaignMaxMs: 80,
  catchupStallMs: 300,
};

/**
 * Run one seeded random schedule over a {@link Cluster} and check Raft's safety properties after
 * every step. Faults chosen by the seed: message loss, delay and reordering (delivering any message
 * in flight, not only the oldest), duplication, partitions, crashes (also between sending and
 * persisting a Ready) and restarts from persisted state. Same seed, same run.
 */
export function runChecker(options: CheckerOptions): CheckerResult {
  const run = new CheckerRun(options);
  const steps = options.steps ?? 2_000;
  for (let step = 0; step < steps; step++) {
    run.step(step);
    if (options.trace !== undefined && step % 50 === 0) options.trace(run.summary(step));
    const v = run.checker.violations[0];
    if (v !== undefined) return run.result(step + 1, v, step);
  }
  return run.result(steps, undefined, -1);
}

/** One seeded run: the cluster, its checker, the fault intensities and the fault schedule. */
class CheckerRun {
  readonly checker: InvariantChecker = new InvariantChecker();
  private readonly prng: Prng;
  private readonly ids: string[];
  private readonly cluster: Cluster;
  private readonly seed: number;
  // Each seed gets its own fault intensity, so that some runs are calm and others are violent.
  private readonly lossRate: number;
  private readonly dupRate: number;
  private readonly reorderRate: number;
  private readonly crashRate: number;
  private readonly partitionRate: number;
  private readonly restartAt = new Map<string, number>();
  private healAt = -1;
  private proposals = 0;

  constructor(options: CheckerOptions) {
    this.seed = options.seed;
    const prng = new Prng(options.seed);
    this.prng = prng;
    // Mostly 3 and 5 nodes; sometimes 4, where a quorum is 3 of 4.
    const size = options.nodes ?? (prng.chance(0.5) ? 3 : prng.chance(0.75) ? 5 : 4);
    this.ids = Array.from({ length: size }, (_, i) => nodeId(i + 1));
    this.cluster = new Cluster({
      ids: this.ids,
      seed: prng.nextUint32(),
      timing: CHECKER_TIMING,
      observer: this.checker,
      // A quarter of the seeds decode every frame from bytes, as behind a real transport.
      deliverFrames: !prng.chance(0.25),
      ...(options.faults !== undefined ? { faults: options.faults } : {}),
    });
    this.checker.attach(this.cluster);
    this.lossRate = prng.float() * 0.1;
    this.dupRate = prng.float() * 0.05;
    this.reorderRate = prng.float() * 0.5;
    this.crashRate = prng.float() * 0.005;
    this.partitionRate = prng.float() * 0.01;
  }

  /** One random action, then every per-step invariant. */
  step(step: number): void {
    this.runSchedule(step);
    const r = this.prng.float();
    const live = this.ids.filter((id) => this.cluster.isUp(id));
    if (r < 0.45) this.deliverBurst();
    else if (r < 0.75) this.processOne(live);
    else if (r < 0.83) this.cluster.advanceTime(1 + this.prng.int(20));
    // A burst of slowness: long enough for elections to time out.
    else if (r < 0.84) this.cluster.advanceTime(100 + this.prng.int(300));
    else if (r < 0.94) this.propose(live);
    else if (r < 0.94 + this.crashRate) this.crashOne(step, live);
    else if (r < 0.94 + this.crashRate + this.partitionRate) this.partition(step);
    else if (r < 0.99) this.churn(live);
    else {
      const id = live[this.prng.int(live.length)];
      if (id !== undefined) this.cluster.node(id).campaign();
    }
    this.checker.checkStep();
  }

  /** Restarts and heals that are due; crashed nodes get a restart time. */
  private runSchedule(step: number): void {
    for (const [id, at] of this.restartAt) {
      if (at <= step) {
        this.restartAt.delete(id);
        this.cluster.restart(id);
      }
    }
    if (this.healAt >= 0 && this.healAt <= step) {
      this.cluster.heal();
      this.healAt = -1;
    }
    for (const id of this.ids) {
      // A crash between sending and persisting a Ready leaves the node down until restarted.
      if (!this.cluster.isUp(id) && !this.restartAt.has(id)) {
        this.restartAt.set(id, step + 20 + this.prng.int(200));
      }
    }
  }

  /** Deliver 1–3 messages: oldest first, or any one (reordering, delay); some lost, some twice. */
  private deliverBurst(): void {
    const { cluster, prng } = this;
    const burst = 1 + prng.int(3);
    for (let k = 0; k < burst && cluster.network.length > 0; k++) {
      const n = cluster.network.length;
      const pos = prng.chance(this.reorderRate) ? prng.int(n) : 0;
      if (prng.chance(this.lossRate)) cluster.drop(pos);
      else {
        if (prng.chance(this.dupRate)) cluster.duplicate(pos);
        cluster.deliver(pos);
      }
    }
  }

  /** Handle one Ready of a node that has one; sometimes crash between send and persist. */
  private processOne(live: readonly string[]): void {
    const busy = live.filter((id) => this.cluster.node(id).hasReady());
    const id = busy[this.prng.int(busy.length)];
    if (id !== undefined) this.cluster.processReady(id, this.prng.chance(this.crashRate));
  }

  /** Propose on the leader (sometimes through forwarding), or forward from a random node. */
  private propose(live: readonly string[]): void {
    const leader = this.cluster.leader();
    if (leader !== undefined) {
      const data = ascii(`p${this.proposals++}`);
      if (this.prng.chance(0.2)) leader.forwardProposal(data);
      else leader.propose(leader.term, data);
      return;
    }
    const id = live[this.prng.int(live.length)];
    if (id !== undefined) this.cluster.node(id).forwardProposal(ascii(`f${this.proposals++}`));
  }

  private crashOne(step: number, live: readonly string[]): void {
    const id = this.ids[this.prng.int(this.ids.length)];
    if (id !== undefined && this.cluster.isUp(id) && live.length > 1) {
      this.cluster.crash(id);
      this.restartAt.set(id, step + 20 + this.prng.int(200));
    }
  }

  /** Split the nodes in two random sides for 50–350 steps. */
  private partition(step: number): void {
    if (this.healAt >= 0) return;
    const side = new Set(this.ids.filter(() => this.prng.chance(0.5)));
    this.cluster.partition([[...side], this.ids.filter((id) => !side.has(id))]);
    this.healAt = step + 50 + this.prng.int(300);
  }

  /** Leader transfers and observer toggles. */
  private churn(live: readonly string[]): void {
    const id = live[this.prng.int(live.length)];
    if (id === undefined) return;
    if (this.prng.chance(0.05)) {
      const node = this.cluster.node(id);
      if (node.state === "leader") node.stepDown(this.ids[this.prng.int(this.ids.length)]);
    } else if (this.prng.chance(0.02)) {
      // Observers replicate and apply but never campaign; toggling them must not hurt safety.
      const node = this.cluster.node(id);
      node.setObserver(!node.isObserver());
    }
  }

  /** One line per node: role initial, term, last/commit/applied. */
  summary(step: number): string {
    const c = this.cluster;
    const nodes = this.ids.map((id) => {
      if (!c.isUp(id)) return "down";
      const n = c.node(id);
      const p = n.progress();
      return `${n.state[0]}${n.term}:${p.index}/${p.commit}/${p.applied}`;
    });
    return `${step} t=${c.now} net=${c.network.length} ${nodes.join(" ")}`;
  }

  result(steps: number, violation: Violation | undefined, failedAt: number): CheckerResult {
    let maxCommit = 0;
    for (const id of this.ids) {
      if (this.cluster.isUp(id)) {
        maxCommit = Math.max(maxCommit, this.cluster.node(id).progress().commit);
      }
    }
    const leaderTerms = this.checker.leaderTermCount();
    return { seed: this.seed, steps, violation, failedAt, maxCommit, leaderTerms };
  }
}

/** ASCII-only encoding: the core and its testing entry must not rely on platform globals. */
function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

/** The command that replays a seed. */
export function replayCommand(seed: number): string {
  return `SEED=${seed} pnpm --filter @raft/core test checker`;
}
