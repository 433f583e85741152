import { bench, describe } from "vitest";
import type { HistoryEvent, PlannedKvOperation, QueueRead } from "../src/testing/checkers/index";
import { checkKvHistory, checkQueue, generateKvHistory } from "../src/testing/checkers/index";

/** mulberry32: a tiny seeded PRNG, so every run benchmarks the same histories. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 5,000 operations; linearization points 10 time units apart and intervals of up to ~100 units,
 * so about 10 clients overlap at any time. 2% of the operations are indeterminate.
 */
function kvPlan(keys: number, seed: number): PlannedKvOperation[] {
  const random = prng(seed);
  const plan: PlannedKvOperation[] = [];
  for (let i = 0; i < 5_000; i++) {
    const r = random();
    plan.push({
      key: `k${Math.floor(random() * keys)}`,
      f: r < 0.4 ? "put" : r < 0.8 ? "get" : "cas",
      value: Math.floor(random() * 5),
      expected: random() < 0.2 ? null : Math.floor(random() * 5),
      lead: Math.floor(random() * 50),
      lag: Math.floor(random() * 50),
      outcome: random() < 0.98 ? "ok" : random() < 0.5 ? "info" : "info-dropped",
    });
  }
  return plan;
}

const oneKey = generateKvHistory(kvPlan(1, 1));
const tenKeys = generateKvHistory(kvPlan(10, 2));
const staleRead: HistoryEvent[] = tenKeys.map((event, i) =>
  i === tenKeys.findLastIndex((e) => e.f === "get" && e.type === "ok")
    ? { ...event, value: -1 }
    : event,
);

describe("linearizability (5,000 ops, ~10 concurrent clients)", () => {
  bench("check KV history, 1 key", () => {
    if (checkKvHistory(oneKey).valid !== true) throw new Error("expected linearizable");
  });
  bench("check KV history, 10 keys", () => {
    if (checkKvHistory(tenKeys).valid !== true) throw new Error("expected linearizable");
  });
  bench("find and shrink a bad read, 10 keys", () => {
    if (checkKvHistory(staleRead).valid !== false) throw new Error("expected a violation");
  });
});

function queueRun(appends: number): { history: HistoryEvent[]; reads: QueueRead[] } {
  const history: HistoryEvent[] = [];
  const stream: string[] = [];
  for (let i = 0; i < appends; i++) {
    const producer = i % 10;
    const value = `${producer}-${Math.floor(i / 10)}`;
    history.push({ process: producer, type: "invoke", f: "append", value, time: 2 * i });
    history.push({ process: producer, type: "ok", f: "append", value, time: 2 * i + 1 });
    stream.push(value);
  }
  return { history, reads: ["n1", "n2", "n3"].map((node) => ({ node, values: stream })) };
}

const queue = queueRun(100_000);

describe("queue checker (100,000 appends, 3 nodes)", () => {
  bench("check queue history", () => {
    if (!checkQueue(queue).valid) throw new Error("expected valid");
  });
});
