import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without declarations
import { sumVitestCounts } from "../run-tests.mjs";

describe("run-tests", () => {
  it("sums the vitest summary lines of every package, with and without colours", () => {
    const output = [
      "@raft/codec:test:  Test Files  9 passed (9)",
      "@raft/codec:test:       Tests  94 passed (94)",
      "@raft/wal:test:       Tests  1 failed | 59 passed (60)",
      "@raft/server-integration:test:       \u001b[2m Tests \u001b[22m 225 passed | 2 skipped (227)",
      "something else: 3 passed",
    ].join("\n");
    expect(sumVitestCounts(output)).toEqual({
      passed: 378,
      failed: 1,
      skipped: 2,
      todo: 0,
      files: 3,
    });
  });

  it("finds nothing in output without vitest summaries", () => {
    expect(sumVitestCounts("Tasks: 3 successful\nno tests here").files).toBe(0);
  });
});
