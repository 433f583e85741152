import type { UnsafeTestingFaults } from "../types";
import { Cluster, nodeId } from "./cluster";
import { InvariantChecker, type Violation } from "./invariants";
import { Prng } from "./prng";

/** Options of {@link runChecker}. */
export interface CheckerOptions {
  readonly seed: number;
  /** Number of random steps. Default 2,000. */
  readonly steps?: number;
  /** Cluster size. Default: 3 or 5, chosen by the seed. */
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
  const prng = new Prng(options.seed);
  const size = options.nodes ?? (prng.chance(0.5) ? 3 : 5);
  const ids = Array.from({ length: size }, (_, i) => nodeId(i + 1));
  const checker = new InvariantChecker();
  const cluster = new Cluster({
    ids,
    seed: prng.nextUint32(),
    timing: CHECKER_TIMING,
    observer: checker,
    // A quarter of the seeds decode every frame from bytes, as behind a real transport.
    deliverFrames: !prng.chance(0.25),
    ...(options.faults !== undefined ? { faults: options.faults } : {}),
  });
  checker.attach(cluster);
  const steps = options.steps ?? 2_000;
  // Each seed gets its own fault intensity, so that some runs are calm and others are violent.
  const lossRate = prng.float() * 0.1;
  const dupRate = prng.float() * 0.05;
  const reorderRate = prng.float() * 0.5;
  const crashRate = prng.float() * 0.005;
  const partitionRate = prng.float() * 0.01;
  let proposals = 0;
  let step = 0;
  const restartAt = new Map<string, number>();
  let healAt = -1;
  for (; step < steps; step++) {
    for (const [id, at] of restartAt) {
      if (at <= step) {
        restartAt.delete(id);
        cluster.restart(id);
      }
    }
    if (healAt >= 0 && healAt <= step) {
      cluster.heal();
      healAt = -1;
    }
    for (const id of ids) {
      // A crash between sending and persisting a Ready leaves the node down until restarted.
      if (!cluster.isUp(id) && !restartAt.has(id)) restartAt.set(id, step + 20 + prng.int(200));
    }
    const r = prng.float();
    const live = ids.filter((id) => cluster.isUp(id));
    if (r < 0.45) {
      const burst = 1 + prng.int(3);
      for (let k = 0; k < burst && cluster.network.length > 0; k++) {
        const n = cluster.network.length;
        const pos = prng.chance(reorderRate) ? prng.int(n) : 0;
        if (prng.chance(lossRate)) cluster.drop(pos);
        else {
          if (prng.chance(dupRate)) cluster.duplicate(pos);
          cluster.deliver(pos);
        }
      }
    } else if (r < 0.75) {
      const busy = live.filter((id) => cluster.node(id).hasReady());
      const id = busy[prng.int(busy.length)];
      if (id !== undefined) cluster.processReady(id, prng.chance(crashRate));
    } else if (r < 0.83) {
      cluster.advanceTime(1 + prng.int(20));
    } else if (r < 0.84) {
      // A burst of slowness: long enough for elections to time out.
      cluster.advanceTime(100 + prng.int(300));
    } else if (r < 0.94) {
      const leader = cluster.leader();
      if (leader !== undefined) {
        const data = new TextEncoderLite().encode(`p${proposals++}`);
        if (prng.chance(0.2)) leader.forwardProposal(data);
        else leader.propose(leader.term, data);
      } else {
        const id = live[prng.int(live.length)];
        if (id !== undefined)
          cluster.node(id).forwardProposal(new TextEncoderLite().encode(`f${proposals++}`));
      }
    } else if (r < 0.94 + crashRate) {
      const id = ids[prng.int(ids.length)];
      if (id !== undefined && cluster.isUp(id) && live.length > 1) {
        cluster.crash(id);
        restartAt.set(id, step + 20 + prng.int(200));
      }
    } else if (r < 0.94 + crashRate + partitionRate) {
      if (healAt < 0) {
        const side = new Set(ids.filter(() => prng.chance(0.5)));
        cluster.partition([[...side], ids.filter((id) => !side.has(id))]);
        healAt = step + 50 + prng.int(300);
      }
    } else if (r < 0.99) {
      const id = live[prng.int(live.length)];
      if (id !== undefined && prng.chance(0.05)) {
        const node = cluster.node(id);
        if (node.state === "leader") node.stepDown(ids[prng.int(ids.length)]);
      } else if (id !== undefined && prng.chance(0.02)) {
        // Observers replicate and apply but never campaign; toggling them must not hurt safety.
        const node = cluster.node(id);
        node.setObserver(!node.isObserver());
      }
    } else {
      const id = live[prng.int(live.length)];
      if (id !== undefined) cluster.node(id).campaign();
    }
    checker.checkStep();
    if (options.trace !== undefined && step % 50 === 0) {
      options.trace(
        `${step} t=${cluster.now} net=${cluster.network.length} ` +
          ids
            .map((id) => {
              if (!cluster.isUp(id)) return "down";
              const n = cluster.node(id);
              const p = n.progress();
              return `${n.state[0]}${n.term}:${p.index}/${p.commit}/${p.applied}`;
            })
            .join(" "),
      );
    }
    const v = checker.violations[0];
    if (v !== undefined) {
      return result(options.seed, step + 1, v, step, cluster, checker);
    }
  }
  return result(options.seed, step, undefined, -1, cluster, checker);
}

function result(
  seed: number,
  steps: number,
  violation: Violation | undefined,
  failedAt: number,
  cluster: Cluster,
  checker: InvariantChecker,
): CheckerResult {
  let maxCommit = 0;
  for (const id of cluster.ids) {
    if (cluster.isUp(id)) maxCommit = Math.max(maxCommit, cluster.node(id).progress().commit);
  }
  return { seed, steps, violation, failedAt, maxCommit, leaderTerms: checker.leaderTermCount() };
}

/** ASCII-only encoder: the core and its testing entry must not rely on platform globals. */
class TextEncoderLite {
  encode(text: string): Uint8Array {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
    return out;
  }
}

/** The command that replays a seed. */
export function replayCommand(seed: number): string {
  return `SEED=${seed} pnpm --filter @raft/core test -- checker`;
}
