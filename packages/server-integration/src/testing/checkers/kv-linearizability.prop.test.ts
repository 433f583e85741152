import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "./history";
import type { PlannedKvOperation } from "./kv-generator";
import { generateKvHistory } from "./kv-generator";
import { checkKvHistory } from "./kv-linearizability";
import { kvOperationsFromHistory, kvRegisterModel } from "./kv-model";
import { checkLinearizability } from "./linearizability";

// Replay a failure with SEED=<printed seed> (fast-check prints the seed and path on failure).
const seed = Number(process.env["SEED"] ?? 20_261_127);
const numRuns = Number(process.env["RUNS"] ?? 150);

const plannedOperation: fc.Arbitrary<PlannedKvOperation> = fc.record({
  key: fc.constantFrom("a", "b", "c"),
  f: fc.constantFrom("put", "get", "get", "cas"),
  value: fc.integer({ min: 0, max: 4 }),
  expected: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
  lead: fc.integer({ min: 0, max: 35 }),
  lag: fc.integer({ min: 0, max: 35 }),
  outcome: fc.constantFrom("ok", "ok", "ok", "ok", "info", "info-dropped"),
});
const plan = fc.array(plannedOperation, { minLength: 1, maxLength: 60 });

const NEVER_WRITTEN = 1_000_000;

function mutateRead(events: readonly HistoryEvent[], pick: number): HistoryEvent[] | undefined {
  const reads = events.flatMap((event, i) => (event.f === "get" && event.type === "ok" ? [i] : []));
  if (reads.length === 0) return undefined;
  const at = reads[pick % reads.length] as number;
  return events.map((event, i) => (i === at ? { ...event, value: NEVER_WRITTEN + pick } : event));
}

describe("checkKvHistory (properties)", () => {
  it("accepts every history produced by a sequential register with overlapping intervals", () => {
    fc.assert(
      fc.property(plan, (planned) => {
        const result = checkKvHistory(generateKvHistory(planned));
        expect(result.valid).toBe(true);
      }),
      { seed, numRuns },
    );
  });

  it("catches a read result mutated into a value never written", () => {
    fc.assert(
      fc.property(plan, fc.nat(), (planned, pick) => {
        const mutated = mutateRead(generateKvHistory(planned), pick);
        fc.pre(mutated !== undefined);
        const result = checkKvHistory(mutated as HistoryEvent[]);
        expect(result.valid).toBe(false);
        if (result.valid !== false) return;
        expect(result.kind).toBe("value");
        // The mutated read alone is the whole story.
        expect(result.minimalHistory).toHaveLength(1);
        expect(result.minimal).toBe(true);
      }),
      { seed, numRuns },
    );
  });

  it("shrinks a swapped pair of read results to a minimal failing history", () => {
    // Swapping the results of two reads of different values on one key usually breaks real-time
    // order; when it does, the reported history must be minimal.
    let failures = 0;
    fc.assert(
      fc.property(plan, fc.nat(), fc.nat(), (planned, first, second) => {
        const events = generateKvHistory(planned);
        const reads = events.flatMap((e, i) => (e.f === "get" && e.type === "ok" ? [i] : []));
        fc.pre(reads.length >= 2);
        const i = reads[first % reads.length] as number;
        const j = reads[second % reads.length] as number;
        const a = events[i] as HistoryEvent;
        const b = events[j] as HistoryEvent;
        fc.pre(a.key === b.key && a.value !== b.value);
        const swapped = events.map((e, k) =>
          k === i ? { ...e, value: b.value } : k === j ? { ...e, value: a.value } : e,
        );
        const result = checkKvHistory(swapped);
        if (result.valid !== false) return;
        failures++;
        expect(result.minimal).toBe(true);
        const ops = result.minimalHistory;
        for (let drop = 0; drop < ops.length; drop++) {
          const rest = ops.filter((_, k) => k !== drop);
          const verdict = checkLinearizability(kvRegisterModel, rest).valid;
          if (verdict === true || !result.supportPreserving) {
            expect(verdict).toBe(true);
            continue;
          }
          const orderless = rest.map((op) => ({
            ...op,
            call: 0,
            return: op.return === Number.POSITIVE_INFINITY ? op.return : 1,
          }));
          expect(checkLinearizability(kvRegisterModel, orderless).valid).toBe(false);
        }
      }),
      { seed, numRuns },
    );
    // Guards against a vacuous property: some swaps must have produced failures to shrink.
    expect(failures).toBeGreaterThan(0);
  });

  it("is deterministic: the same history gives the same verdict and minimal history", () => {
    fc.assert(
      fc.property(plan, fc.nat(), (planned, pick) => {
        const mutated = mutateRead(generateKvHistory(planned), pick) ?? generateKvHistory(planned);
        expect(checkKvHistory(mutated)).toEqual(checkKvHistory(mutated));
      }),
      { seed, numRuns: Math.ceil(numRuns / 3) },
    );
  });

  it("never throws on histories of random events, only HistoryError", () => {
    const event = fc.record({
      process: fc.integer({ min: 0, max: 3 }),
      type: fc.constantFrom("invoke", "ok", "fail", "info"),
      f: fc.constantFrom("put", "get", "cas", "nope"),
      key: fc.constantFrom("a", "b"),
      value: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.tuple(fc.integer(), fc.integer())),
      time: fc.integer({ min: 0, max: 50 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        try {
          const ops = kvOperationsFromHistory(events as HistoryEvent[]);
          checkLinearizability(kvRegisterModel, ops, { maxStepsPerKey: 50_000 });
        } catch (error) {
          expect((error as Error).name).toBe("HistoryError");
        }
      }),
      { seed, numRuns },
    );
  });
});
