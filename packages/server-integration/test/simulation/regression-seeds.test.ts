import { describe, expect, it } from "vitest";
import { simulate } from "../../src/testing/index";

/**
 * Seeds that once found a bug, kept forever (house style §3.8): each must run without a violation.
 * Seeds whose bug is not fixed yet are skipped, with the finding in the test name.
 */
const OPEN_FINDINGS: readonly { seed: number; finding: string }[] = [
  {
    seed: 1640,
    finding:
      "at kv[290] the damaged n1 applies no command where n3 applied put(1000147); later a stale read",
  },
  {
    seed: 2256,
    finding:
      "at queue[311] the damaged n2 applies no command where n3 applied p0-156; n2 then leads",
  },
  {
    seed: 3256,
    finding:
      "the undamaged n2 and n3 apply different appends at queue[406] after n2 leads term 140 (n3 was at 142; n1 damaged)",
  },
];

describe("simulate regression seeds", () => {
  for (const { seed, finding } of OPEN_FINDINGS) {
    it.skip(`seed ${seed} runs clean (open: ${finding}; issue #8)`, async () => {
      const result = await simulate({ seed, trace: "off" });
      expect(result.violations, result.replay).toEqual([]);
    });
  }
});
