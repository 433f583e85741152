import { describe, expect, it } from "vitest";
import { simulate } from "../../src/testing/index";

/**
 * Seeds that once found a bug, kept forever (house style §3.8): each must run without a violation.
 * Seeds whose bug is not fixed yet must still reproduce it, with the finding in the test name.
 */
const OPEN_FINDINGS: readonly { seed: number; finding: string }[] = [];

/**
 * Fixed findings: each seed must run clean.
 * - 1640 and 2256 (issue #6): synced, acknowledged records at the end of a damaged server's log
 *   were lost without the Raft layer learning it (a bit flip in the last synced record, cut as a
 *   torn tail; a misdirected write that left the file no longer), and the damaged server won an
 *   election and overwrote a committed entry. Fixed by the WAL's durable mark and core's
 *   `lostTail` (ADR 0006). The mark file adds disk writes, so these seeds no longer replay the
 *   original schedule; the original scenarios are replayed deterministically by
 *   test/server/damage-repair.test.ts ("never overwrites a committed entry after …"), which fails
 *   without the fix.
 * - 3256: a damaged newest snapshot made the WAL fall back to an older one below a compacted log;
 *   core dropped the log after the gap, so n1 forgot acknowledged entries and voted for n2, which
 *   overwrote committed `queue[406]`. `RaftServer` now refuses to start such a group
 *   (test/server/storage-failure.test.ts).
 */
const FIXED_SEEDS: readonly number[] = [1640, 2256, 3256];

describe("simulate regression seeds", () => {
  for (const seed of FIXED_SEEDS) {
    it(`seed ${seed} runs clean`, async () => {
      const result = await simulate({ seed, trace: "off" });
      expect(result.violations, result.replay).toEqual([]);
    });
  }
  // Open findings are not skipped: each seed must still reproduce its violation, so the bug stays
  // visible in every run, and the test fails (asking for the seed to move to FIXED_SEEDS) the day a
  // fix makes the seed run clean.
  for (const { seed, finding } of OPEN_FINDINGS) {
    it(`seed ${seed} still reproduces its open finding: ${finding}`, async () => {
      const result = await simulate({ seed, trace: "off" });
      expect(
        result.violations.length,
        `seed ${seed} now runs clean: move it to FIXED_SEEDS and close its finding (${result.replay})`,
      ).toBeGreaterThan(0);
    });
  }
});
