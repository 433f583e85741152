import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "./history";
import { HistoryError } from "./history-error";
import { checkQueue } from "./queue-checker";

// Replay a failure with SEED=<printed seed> (fast-check prints the seed and path on failure).
const seed = Number(process.env["SEED"] ?? 20_261_127);
const numRuns = Number(process.env["RUNS"] ?? 150);

interface PlannedAppend {
  readonly producer: number;
  readonly lead: number;
  readonly lag: number;
  readonly outcome: "ok" | "info" | "info-dropped" | "fail";
}

/**
 * An ideal stream: append i takes effect at time 10·(i+1) (its position in the total order)
 * unless it fails or is dropped; producers run one append at a time.
 */
function idealRun(plan: readonly PlannedAppend[]): { history: HistoryEvent[]; stream: string[] } {
  const busyUntil = new Map<number, number>();
  const counters = new Map<number, number>();
  const timed: { time: number; order: number; event: HistoryEvent }[] = [];
  const stream: string[] = [];
  plan.forEach((a, i) => {
    const point = 10 * (i + 1);
    // A producer still busy at this point lends the append to a fresh producer id.
    let producer = a.producer;
    while ((busyUntil.get(producer) ?? Number.NEGATIVE_INFINITY) >= point - a.lead) producer += 100;
    const counter = counters.get(producer) ?? 0;
    counters.set(producer, counter + 1);
    const value = `${producer}-${counter}`;
    const call = point - a.lead;
    const ret = point + a.lag;
    busyUntil.set(
      producer,
      a.outcome === "ok" || a.outcome === "fail" ? ret : Number.POSITIVE_INFINITY,
    );
    if (a.outcome === "ok" || a.outcome === "info") stream.push(value);
    const type = a.outcome === "info-dropped" ? "info" : a.outcome;
    timed.push({
      time: call,
      order: 2 * i,
      event: { process: producer, type: "invoke", f: "append", value, time: call },
    });
    timed.push({
      time: ret,
      order: 2 * i + 1,
      event: { process: producer, type, f: "append", value, time: ret },
    });
  });
  timed.sort((x, y) => x.time - y.time || x.order - y.order);
  return { history: timed.map((t) => t.event), stream };
}

const plan = fc.array(
  fc.record({
    producer: fc.integer({ min: 0, max: 4 }),
    lead: fc.integer({ min: 0, max: 25 }),
    lag: fc.integer({ min: 0, max: 25 }),
    outcome: fc.constantFrom("ok", "ok", "ok", "info", "info-dropped", "fail"),
  }),
  { minLength: 1, maxLength: 80 },
) as fc.Arbitrary<PlannedAppend[]>;

describe("checkQueue (properties)", () => {
  it("accepts every run of an ideal stream read identically on every node", () => {
    fc.assert(
      fc.property(plan, (planned) => {
        const { history, stream } = idealRun(planned);
        const reads = ["n1", "n2", "n3"].map((node) => ({ node, values: stream }));
        const report = checkQueue({ history, reads });
        expect(report.valid).toBe(true);
        expect(report.orderViolationCount).toBe(0);
      }),
      { seed, numRuns },
    );
  });

  it("catches an acknowledged value removed from every node", () => {
    fc.assert(
      fc.property(plan, fc.nat(), (planned, pick) => {
        const { history, stream } = idealRun(planned);
        const acked = new Set(history.filter((e) => e.type === "ok").map((e) => e.value as string));
        const candidates = stream.filter((v) => acked.has(v));
        fc.pre(candidates.length > 0);
        const victim = candidates[pick % candidates.length] as string;
        const values = stream.filter((v) => v !== victim);
        const report = checkQueue({
          history,
          reads: [
            { node: "n1", values },
            { node: "n2", values },
          ],
        });
        expect(report.valid).toBe(false);
        expect([...report.lost.prefix, ...report.lost.middle, ...report.lost.postfix]).toEqual([
          victim,
        ]);
      }),
      { seed, numRuns },
    );
  });

  it("throws nothing but HistoryError on random events and reads", () => {
    const event = fc.record({
      process: fc.integer({ min: 0, max: 3 }),
      type: fc.constantFrom("invoke", "ok", "fail", "info"),
      f: fc.constantFrom("append", "read"),
      value: fc.oneof(fc.string(), fc.constantFrom("0-1", "1-2", "2-3"), fc.integer()),
      time: fc.integer({ min: 0, max: 50 }),
    });
    const read = fc.record({
      node: fc.constantFrom("n1", "n2", "n3"),
      values: fc.array(fc.oneof(fc.string(), fc.constantFrom("0-1", "1-2", "2-3"))),
    });
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 30 }),
        fc.array(read, { maxLength: 3 }),
        (events, reads) => {
          try {
            checkQueue({ history: events as HistoryEvent[], reads });
          } catch (error) {
            expect(error).toBeInstanceOf(HistoryError);
          }
        },
      ),
      { seed, numRuns },
    );
  });
});
