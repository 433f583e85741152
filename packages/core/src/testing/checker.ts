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
  /** Change membership during the run (default: a third of the seeds, chosen by the seed). */
  readonly membership?: boolean;
  /**
   * After the random steps, stop every fault and check that every live member converges within
   * {@link CONVERGENCE_ROUNDS} rounds. Default true.
   */
  readonly converge?: boolean;
  /** Receives a one-line cluster summary every 50 steps (for debugging a seed). */
  readonly trace?: (line: string) => void;
  /** Called with the cluster when a violation stops the run (for debugging a seed). */
  readonly onViolation?: (cluster: Cluster) => void;
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
  /** Snapshots applied by an upper layer (at restart or from a leader during catchup). */
  readonly snapshotsApplied: number;
  /** Read barriers confirmed. */
  readonly readsConfirmed: number;
  /** Membership changes proposed (or forwarded) successfully. */
  readonly membershipChanges: number;
  /** Records damaged (bit flips) or lost from the tail on restarting nodes. */
  readonly damagedRecords: number;
  /** Rounds the convergence phase needed (-1 when not run or a violation stopped the run). */
  readonly convergedIn: number;
}

/** Rounds (50 ms of virtual time, then every message delivered) allowed for convergence. */
export const CONVERGENCE_ROUNDS = 400;

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
    if (v !== undefined) {
      options.onViolation?.(run.cluster);
      return run.result(step + 1, v, step);
    }
  }
  if (options.converge === false) return run.result(steps, undefined, -1);
  const rounds = run.converge(options.trace);
  const v = run.checker.violations[0];
  if (v !== undefined) {
    options.onViolation?.(run.cluster);
    return run.result(steps, v, steps);
  }
  return run.result(steps, undefined, -1, rounds);
}

/** One seeded run: the cluster, its checker, the fault intensities and the fault schedule. */
class CheckerRun {
  readonly checker: InvariantChecker = new InvariantChecker();
  private readonly prng: Prng;
  private readonly ids: string[];
  readonly cluster: Cluster;
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
  private readonly membership: boolean;
  private membershipChanges = 0;
  private damagedRecords = 0;
  private readonly damageRate: number;

  constructor(options: CheckerOptions) {
    this.seed = options.seed;
    const prng = new Prng(options.seed);
    this.prng = prng;
    // Mostly 3 and 5 nodes; sometimes 4, where a quorum is 3 of 4.
    const size = options.nodes ?? (prng.chance(0.5) ? 3 : prng.chance(0.75) ? 5 : 4);
    // A third of the seeds change membership: one extra node starts outside the group.
    this.membership = options.membership ?? prng.chance(0.33);
    const total = this.membership ? size + 1 : size;
    this.ids = Array.from({ length: total }, (_, i) => nodeId(i + 1));
    this.checker.dynamicMembership = this.membership;
    this.cluster = new Cluster({
      ids: this.ids,
      members: this.ids.slice(0, size),
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
    // Half of the seeds flip bits in the stored records of restarting nodes (a minority at once).
    this.damageRate = prng.chance(0.5) ? prng.float() * 0.8 : 0;
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
    else if (r < 0.97) this.churn(live);
    else if (r < 0.98) this.snapshot(live);
    else if (r < 0.99) this.read(live);
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
        if (this.prng.chance(this.damageRate)) this.damage(id);
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

  /**
   * Bit flips in 1–3 stored records of `id` (some with the header lost), unless a minority of
   * the nodes already holds unrepaired damage.
   */
  private damage(id: string): void {
    if (!this.mayDamage(id)) return;
    const s = this.cluster.storage(id);
    const first = s.firstIndex();
    const count = s.lastIndex() - first + 1;
    if (count <= 0) return;
    const n = 1 + this.prng.int(3);
    // A quarter of the damage loses the last records instead (a bit flip in the last synced
    // round, a misdirected write): only the durable mark (`lostTail`) remembers them.
    if (this.prng.chance(0.25)) {
      if (s.loseTail(Math.min(n, count))) this.damagedRecords += Math.min(n, count);
      return;
    }
    for (let k = 0; k < n; k++) {
      if (s.damage(first + this.prng.int(count), this.prng.chance(0.7))) this.damagedRecords++;
    }
  }

  /**
   * Damage the design can recover from without giving up safety: every other node up, a minority
   * of the smallest configuration, no membership change in flight, and some undamaged node whose
   * log is at least as up to date as the damaged node's (a damaged node never leads, so that one
   * must be able to).
   */
  private mayDamage(id: string): boolean {
    const c = this.cluster;
    const damaged = this.damagedNodes();
    let minSize = Number.POSITIVE_INFINITY;
    for (const n of this.ids) {
      if (n === id) continue;
      // Every other node must be up, so that the configurations are all known.
      if (!c.isUp(n)) return false;
      const node = c.node(n);
      if (node.membershipChangeInProgress()) return false;
      minSize = Math.min(minSize, node.clusterSize());
    }
    if (!damaged.includes(id) && damaged.length + 1 > Math.floor((minSize - 1) / 2)) return false;
    const mine = this.lastOf(id);
    return this.ids.some((n) => {
      if (n === id || damaged.includes(n)) return false;
      const other = this.lastOf(n);
      return other.term > mine.term || (other.term === mine.term && other.index >= mine.index);
    });
  }

  private lastOf(id: string): { term: number; index: number } {
    const s = this.cluster.storage(id);
    const index = s.lastIndex();
    return { term: s.termAt(index) ?? 0, index };
  }

  private damagedNodes(): string[] {
    return this.ids.filter((n) => {
      const s = this.cluster.storage(n);
      return s.damagedRecords().length > 0 || s.lostTail !== undefined;
    });
  }

  /**
   * Faults stop: partitions heal, every node restarts, paused nodes resume, nothing is lost or
   * duplicated. A client keeps writing one entry per round. Within {@link CONVERGENCE_ROUNDS}
   * rounds every live member must have applied the same state up to the leader's commit index,
   * which is at least the highest commit index any node ever reached. Returns the rounds used.
   */
  converge(trace?: (line: string) => void): number {
    const c = this.cluster;
    c.heal();
    this.healAt = -1;
    for (const id of this.ids) {
      this.restartAt.delete(id);
      // A node closed by its own removal is restarted, as an operator would.
      if (c.isUp(id) && c.node(id).state === "closed") c.crash(id);
      c.restart(id);
      const node = c.node(id);
      if (node.isPaused()) node.resumeApply();
      if (node.isObserver()) node.setObserver(false);
    }
    const target = this.checker.highestCommit();
    for (let round = 1; round <= CONVERGENCE_ROUNDS; round++) {
      c.advanceTime(50);
      const leader = c.leader();
      if (leader?.isLeader()) leader.propose(leader.term, ascii(`c${this.proposals++}`));
      c.stabilize();
      if (trace !== undefined && round % 50 === 0) trace(`converge ${this.summary(round)}`);
      this.checker.checkStep();
      if (this.checker.violations.length > 0) return round;
      if (this.converged(target)) return round;
    }
    this.checker.fail("no-convergence", `not converged in ${CONVERGENCE_ROUNDS} rounds`);
    return CONVERGENCE_ROUNDS;
  }

  private converged(target: number): boolean {
    const c = this.cluster;
    const leader = c.leader();
    if (leader === undefined || !leader.isLeader()) return false;
    const commit = leader.progress().commit;
    if (commit < target) return false;
    const digest = c.digest(leader.id);
    for (const id of leader.peerNames()) {
      const node = c.node(id);
      const p = node.progress();
      if (p.commit !== commit || p.applied !== commit || c.digest(id) !== digest) return false;
    }
    return true;
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

  /** Leader transfers, observer toggles and membership changes. */
  private churn(live: readonly string[]): void {
    const id = live[this.prng.int(live.length)];
    if (id === undefined) return;
    if (this.membership && this.prng.chance(0.4)) {
      this.changeMembership(id);
      return;
    }
    if (this.prng.chance(0.05)) {
      const node = this.cluster.node(id);
      if (node.state === "leader") node.stepDown(this.ids[this.prng.int(this.ids.length)]);
    } else if (this.prng.chance(0.04)) {
      // Pausing and resuming the apply stream must not hurt safety either.
      const node = this.cluster.node(id);
      if (node.isPaused()) node.resumeApply();
      else node.pauseApply();
    } else if (this.prng.chance(0.02)) {
      // Observers replicate and apply but never campaign; toggling them must not hurt safety.
      const node = this.cluster.node(id);
      node.setObserver(!node.isObserver());
    }
  }

  /**
   * Add a non-member or remove a member (the leader included), proposed on the leader or, for a
   * removal, forwarded from `from`. Refusals (a change in flight, the last member) are expected.
   */
  private changeMembership(from: string): void {
    const leader = this.cluster.leader();
    if (leader === undefined || leader.state !== "leader") return;
    const members = new Set(leader.peerNames());
    const outside = this.ids.filter((id) => !members.has(id));
    const target = this.ids[this.prng.int(this.ids.length)];
    if (target === undefined) return;
    let ok = false;
    if (outside.includes(target)) ok = leader.proposeAddPeer(target).ok;
    // An operator does not shrink a group while a member's disk is being repaired: damage must
    // stay a minority for the group to stay available.
    else if (members.size > 2 && this.damagedNodes().length === 0) {
      const via = this.prng.chance(0.3) ? this.cluster.node(from) : leader;
      ok = via.proposeRemovePeer(target).ok;
    }
    if (ok) this.membershipChanges++;
  }

  /** The upper layer of a random node snapshots its applied state (log compaction). */
  private snapshot(live: readonly string[]): void {
    const id = live[this.prng.int(live.length)];
    if (id !== undefined) this.cluster.snapshot(id);
  }

  /** A linearizable read barrier on the leader (or on any node, which must refuse it). */
  private read(live: readonly string[]): void {
    // Any node that believes it leads, stale leaders included: they must never confirm.
    const leaders = live.filter((id) => this.cluster.node(id).state === "leader");
    const pool = leaders.length > 0 && this.prng.chance(0.8) ? leaders : live;
    const id = pool[this.prng.int(pool.length)];
    if (id === undefined) return;
    const readId = this.cluster.node(id).readIndex();
    this.checker.readRequested(id, readId);
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

  result(
    steps: number,
    violation: Violation | undefined,
    failedAt: number,
    convergedIn = -1,
  ): CheckerResult {
    let maxCommit = 0;
    for (const id of this.ids) {
      if (this.cluster.isUp(id)) {
        maxCommit = Math.max(maxCommit, this.cluster.node(id).progress().commit);
      }
    }
    const leaderTerms = this.checker.leaderTermCount();
    const { snapshotsApplied, readsConfirmed } = this.checker.counts;
    return {
      seed: this.seed,
      steps,
      violation,
      failedAt,
      maxCommit,
      leaderTerms,
      snapshotsApplied,
      readsConfirmed,
      membershipChanges: this.membershipChanges,
      damagedRecords: this.damagedRecords,
      convergedIn,
    };
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
