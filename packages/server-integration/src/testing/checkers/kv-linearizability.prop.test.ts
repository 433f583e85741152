import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "./history";
import type { PlannedKvOperation } from "./kv-generator";
import { generateKvHistory } from "./kv-generator";
import { checkKvHistory } from "./kv-linearizability";
import type { KvInput, KvOutput, KvValue } from "./kv-model";
import { kvOperationsFromHistory, kvRegisterModel } from "./kv-model";
import { checkLinearizability } from "./linearizability";
import type { Operation } from "./model";

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

type KvOperation = Operation<KvInput, KvOutput>;

/**
 * The definition, by brute force: some subset of the indeterminate operations plus every
 * determinate one, in some order that respects real time (never b before a when b returned
 * strictly before a was called), replays through the register. Independent of the WGL code.
 */
function bruteForceLinearizable(ops: readonly KvOperation[]): boolean {
  const indeterminate = ops.filter((op) => op.return === Number.POSITIVE_INFINITY);
  const determinate = ops.filter((op) => op.return !== Number.POSITIVE_INFINITY);
  for (let mask = 0; mask < 1 << indeterminate.length; mask++) {
    const chosen = [...determinate, ...indeterminate.filter((_, i) => (mask >> i) & 1)];
    if (somePermutation(chosen, [])) return true;
  }
  return false;
}

function somePermutation(remaining: readonly KvOperation[], order: KvOperation[]): boolean {
  if (remaining.length === 0) return replays(order);
  for (let i = 0; i < remaining.length; i++) {
    const next = remaining[i] as KvOperation;
    if (order.some((earlier) => next.return < earlier.call)) continue;
    const rest = remaining.filter((_, j) => j !== i);
    if (somePermutation(rest, [...order, next])) return true;
  }
  return false;
}

function replays(order: readonly KvOperation[]): boolean {
  let state: KvValue = null;
  for (const op of order) {
    const [ok, next] = kvRegisterModel.step(state, op.input, op.output);
    if (!ok) return false;
    state = next;
  }
  return true;
}

const smallValue = fc.option(fc.integer({ min: 0, max: 2 }), { nil: null });
const randomOperation: fc.Arbitrary<Omit<KvOperation, "id">> = fc
  .record({
    f: fc.constantFrom("put", "get", "cas"),
    value: smallValue,
    expected: smallValue,
    swapped: fc.boolean(),
    call: fc.integer({ min: 0, max: 20 }),
    length: fc.integer({ min: 0, max: 12 }),
    indeterminate: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  })
  .map((r) => {
    const input: KvInput =
      r.f === "put"
        ? { f: "put", value: r.value }
        : r.f === "get"
          ? { f: "get" }
          : { f: "cas", expected: r.expected, value: r.value };
    const output: KvOutput =
      r.f === "put"
        ? { f: "put" }
        : r.f === "get"
          ? { f: "get", value: r.value }
          : { f: "cas", swapped: r.swapped };
    return {
      process: 0,
      key: "x",
      input,
      output: r.indeterminate ? undefined : output,
      call: r.call,
      return: r.indeterminate ? Number.POSITIVE_INFINITY : r.call + r.length,
    };
  });

describe("checkKvHistory (properties)", () => {
  it("agrees with a brute-force search over every order on small random histories", () => {
    let invalid = 0;
    fc.assert(
      fc.property(fc.array(randomOperation, { minLength: 1, maxLength: 6 }), (drafts) => {
        const ops = drafts.map((op, id) => ({ ...op, id, process: id }));
        const expected = bruteForceLinearizable(ops);
        if (!expected) invalid++;
        expect(checkLinearizability(kvRegisterModel, ops).valid).toBe(expected);
      }),
      { seed, numRuns: numRuns * 4 },
    );
    // Both verdicts must have been exercised.
    expect(invalid).toBeGreaterThan(0);
    expect(invalid).toBeLessThan(numRuns * 4);
  });

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
      value: fc.oneof(
        fc.integer(),
        fc.string(),
        fc.constant(null),
        fc.tuple(fc.integer(), fc.integer()),
      ),
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
