import { describe, expect, it } from "vitest";
import { describeFailures, describeSpeed, envInt, runSeeds } from "./helpers";

describe("simulate with five nodes", () => {
  it("runs seeds with zero violations (up to two damaged nodes)", async () => {
    const seeds = envInt("SIM_SEEDS_5", 10);
    const first = envInt("SIM_FROM", 1);
    const report = await runSeeds(first, first + seeds, {
      nodes: 5,
      events: envInt("SIM_EVENTS", 20_000),
      trace: "off",
    });
    console.log(`five nodes: ${describeSpeed(report)}`);
    expect(report.failures, describeFailures(report.failures, " --nodes 5")).toEqual([]);
  }, 300_000);
});
