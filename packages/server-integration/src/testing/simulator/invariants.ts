import type { SimNode } from "./sim-node";

/** A broken property found by a run. */
export interface SimViolation {
  readonly kind:
    | "election-safety"
    | "state-machine-safety"
    | "apply-order"
    | "term-regressed"
    | "commit-regressed"
    | "workload-invariant"
    | "history"
    | "liveness"
    | "convergence";
  /** Events run when it was found. */
  readonly event: number;
  /** Virtual time in ms. */
  readonly time: number;
  readonly detail: string;
}

/**
 * The cluster invariants checked while the run goes (reliability-plan §5, the cheap ones):
 * at most one leader per term per group; every replica applies the same commands at each index,
 * and no command where another replica applied none (committed prefixes identical, as far as the
 * state machine sees them); each process applies indexes in increasing order; a process's term
 * and commit index never decrease.
 */
export class ClusterInvariants {
  readonly violations: SimViolation[] = [];
  readonly #leaders = new Map<string, string>();
  readonly #applied = new Map<string, Map<number, { node: string; digest: string }>>();
  readonly #lastTerm = new Map<string, number>();
  readonly #lastCommit = new Map<string, number>();
  #event = 0;
  #time = 0;

  /** The position stamped on violations found from now on. */
  at(event: number, time: number): void {
    this.#event = event;
    this.#time = time;
  }

  fail(kind: SimViolation["kind"], detail: string): void {
    // One broken property tends to break it at many indexes at once: the first few tell the story.
    if (this.violations.length >= 10) return;
    this.violations.push({ kind, event: this.#event, time: this.#time, detail });
  }

  /** Called for each index a replica applies (its commands), with the index it applied before. */
  onApply(
    node: string,
    group: string,
    index: number,
    commands: readonly unknown[],
    previous: number,
  ): void {
    if (index <= previous) {
      this.fail("apply-order", `${node} applied ${group}[${index}] after ${group}[${previous}]`);
    }
    let byIndex = this.#applied.get(group);
    if (byIndex === undefined) {
      byIndex = new Map();
      this.#applied.set(group, byIndex);
    }
    // Indexes skipped between two applies of one process carried no command here (a no-op, a
    // membership entry, an undecodable payload): every replica must agree on that too. Before a
    // process's first apply the gap may be a restored snapshot, so it is not judged.
    if (previous > 0)
      for (let i = previous + 1; i < index; i++) this.#record(byIndex, group, i, node, "[]");
    this.#record(byIndex, group, index, node, JSON.stringify(commands));
  }

  #record(
    byIndex: Map<number, { node: string; digest: string }>,
    group: string,
    index: number,
    node: string,
    digest: string,
  ): void {
    const first = byIndex.get(index);
    if (first === undefined) byIndex.set(index, { node, digest });
    else if (first.digest !== digest) {
      this.fail(
        "state-machine-safety",
        `${group}[${index}]: ${first.node} applied ${first.digest}, ${node} applied ${digest}`,
      );
    }
  }

  /** Checks leaders, terms and (when `deep`) commit indexes of every live process. */
  checkNodes(nodes: readonly SimNode[], deep: boolean): void {
    for (const node of nodes) {
      const inc = node.inc;
      if (inc === undefined || inc.dead) continue;
      for (const [group, g] of inc.groups) {
        const term = g.term();
        const key = `${node.name}/${inc.number}/${group}`;
        const lastTerm = this.#lastTerm.get(key) ?? 0;
        if (term < lastTerm) {
          this.fail("term-regressed", `${node.name} ${group}: term ${lastTerm} -> ${term}`);
        }
        this.#lastTerm.set(key, term);
        if (g.state() === "leader") {
          const leaderKey = `${group}/${term}`;
          const other = this.#leaders.get(leaderKey);
          if (other === undefined) this.#leaders.set(leaderKey, node.name);
          else if (other !== node.name) {
            this.fail(
              "election-safety",
              `${group} term ${term}: ${other} and ${node.name} both led`,
            );
          }
        }
        if (deep) {
          const commit = g.status().commit;
          const lastCommit = this.#lastCommit.get(key) ?? 0;
          if (commit < lastCommit) {
            this.fail(
              "commit-regressed",
              `${node.name} ${group}: commit ${lastCommit} -> ${commit}`,
            );
          }
          this.#lastCommit.set(key, commit);
        }
      }
    }
  }
}
