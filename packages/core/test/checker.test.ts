import { describe, expect, it } from "vitest";
import { replayCommand, runChecker } from "../src/testing/checker";
import type { UnsafeTestingFaults } from "../src/types";

const env = (name: string): string | undefined => process.env[name];

/**
 * The randomized cluster checker (then a convergence phase per seed, see `runChecker`). CI runs
 * 1,000 seeds × 2,000 steps; `CHECKER_SEEDS` and
 * `CHECKER_STEPS` raise the budget, `SEED` replays one seed.
 */
const SEEDS = Number(env("CHECKER_SEEDS") ?? 1_000);
const STEPS = Number(env("CHECKER_STEPS") ?? 2_000);
const ONLY = env("SEED");

describe("randomized cluster checker", () => {
  const label = ONLY !== undefined ? `seed ${ONLY}` : `${SEEDS} seeds`;
  it(
    `keeps every safety invariant over ${label} × ${STEPS} steps`,
    () => {
      const seeds =
        ONLY !== undefined ? [Number(ONLY)] : Array.from({ length: SEEDS }, (_, i) => i + 1);
      let commits = 0;
      let terms = 0;
      let snapshots = 0;
      let reads = 0;
      let changes = 0;
      let damaged = 0;
      let converged = 0;
      for (const seed of seeds) {
        const r = runChecker({ seed, steps: STEPS });
        if (r.violation !== undefined) {
          throw new Error(
            `seed ${seed} broke ${r.violation.invariant} at step ${r.failedAt}: ` +
              `${r.violation.detail}\nreplay: ${replayCommand(seed)}`,
          );
        }
        commits += r.maxCommit;
        terms += r.leaderTerms;
        snapshots += r.snapshotsApplied;
        reads += r.readsConfirmed;
        changes += r.membershipChanges;
        damaged += r.damagedRecords;
        if (r.convergedIn >= 0) converged++;
      }
      // The runs must make progress and change leaders, or they would check little.
      if (ONLY === undefined) {
        expect(commits / seeds.length).toBeGreaterThan(10);
        expect(terms / seeds.length).toBeGreaterThan(3);
        // Snapshots get applied (restarts, followers behind the compacted log), reads confirmed.
        expect(snapshots / seeds.length).toBeGreaterThan(1);
        expect(reads / seeds.length).toBeGreaterThan(1);
        // Membership changes and bit flips happen, and every run converged after the faults.
        expect(changes / seeds.length).toBeGreaterThan(0.3);
        expect(damaged / seeds.length).toBeGreaterThan(0.3);
        expect(converged).toBe(seeds.length);
      }
    },
    Math.max(60_000, SEEDS * STEPS * 0.02),
  );

  const planted: [keyof UnsafeTestingFaults, string][] = [
    ["voteBeforePersist", "ack-before-persist"],
    ["commitOlderTermByCount", "leader-completeness"],
    ["ackBeforePersist", "ack-before-persist"],
    ["skipConflictTruncation", "log-matching"],
    ["serveReadsWithoutQuorum", "stale-read"],
    ["truncateAtDamage", "committed-lost"],
    ["ignoreLostTail", "leader-completeness"],
  ];
  for (const [fault, invariant] of planted) {
    it(`catches the planted bug ${fault} within the CI budget`, () => {
      let found: { seed: number; invariant: string } | undefined;
      for (let seed = 1; seed <= 500 && found === undefined; seed++) {
        const r = runChecker({ seed, steps: 2_000, faults: { [fault]: true } });
        if (r.violation !== undefined) found = { seed, invariant: r.violation.invariant };
      }
      expect(found?.invariant).toBe(invariant);
    });
  }

  it("converges at seed 1548 × 3,000 steps, where the node with the longest log had its own removal in flight", () => {
    // Once a known limit: nobody could be elected (nats-server's empty-vote rule kept the others
    // out, and the removed node waited for a leader that was gone). See election.ts.
    const r = runChecker({ seed: 1548, steps: 3_000 });
    expect(r.violation, replayCommand(1548)).toBeUndefined();
    // The first version of that fix let such a candidate count its own vote, although it is not in
    // its own configuration: seed 4905 then elected a leader missing a committed entry.
    const s = runChecker({ seed: 4905, steps: 3_000 });
    expect(s.violation, replayCommand(4905)).toBeUndefined();
  });

  it("replays a seed identically", () => {
    const a = runChecker({ seed: 42, steps: 1_000 });
    const b = runChecker({ seed: 42, steps: 1_000 });
    expect(b).toEqual(a);
  });
});
