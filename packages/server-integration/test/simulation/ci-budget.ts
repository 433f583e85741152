import { expect, it } from "vitest";
import { describeFailures, describeSpeed, envInt, runSeeds } from "./helpers";

/**
 * The CI budget of issue 8: SIM_SEEDS seeds (default 300) from SIM_FROM (default 1) ×
 * SIM_EVENTS safety-phase events (default 20,000), every fault kind on, zero violations: safety
 * invariants after every event, linearizability of the KV history, the queue checks, progress
 * after the heal and convergence of every replica. The seeds are split over two test files.
 * A longer exploration is the same test with larger numbers, e.g.
 * `SIM_SEEDS=5000 SIM_FROM=1000 pnpm test test/simulation/ci-seeds` (or `pnpm sim --seeds`).
 */
export function ciBudgetTest(part: 0 | 1): void {
  const total = envInt("SIM_SEEDS", 300);
  const events = envInt("SIM_EVENTS", 20_000);
  const first = envInt("SIM_FROM", 1);
  const half = Math.ceil(total / 2);
  const from = first + part * half;
  const to = part === 0 ? first + half : first + total;

  it(`runs seeds ${from}..${to - 1} × ${events} events with zero violations`, async () => {
    const report = await runSeeds(from, to, { events, trace: "off" });
    console.log(`simulation seeds ${from}..${to - 1}: ${describeSpeed(report)}`);
    expect(report.failures, describeFailures(report.failures)).toEqual([]);
  }, 600_000);
}
