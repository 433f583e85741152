import { describe, expect, it } from "vitest";
import type { OperationSpec } from "./history-builder";
import { buildHistory } from "./history-builder";
import type { PlannedKvOperation } from "./kv-generator";
import { generateKvHistory } from "./kv-generator";
import { checkKvHistory } from "./kv-linearizability";
import type { KvInput, KvOutput } from "./kv-model";
import { kvOperationsFromHistory, kvRegisterModel } from "./kv-model";
import type { LinearizabilityResult, NotLinearizableResult } from "./linearizability";
import { checkLinearizability } from "./linearizability";
import type { Operation } from "./model";

const put = (
  process: number,
  call: number,
  ret: number | undefined,
  value: number,
  key = "x",
): OperationSpec => ({
  process,
  f: "put",
  key,
  call,
  ...(ret === undefined ? {} : { return: ret }),
  input: value,
});
const get = (
  process: number,
  call: number,
  ret: number,
  value: number | null,
  key = "x",
): OperationSpec => ({
  process,
  f: "get",
  key,
  call,
  return: ret,
  output: value,
});
const cas = (
  process: number,
  call: number,
  ret: number | undefined,
  expected: number | null,
  value: number,
  type: "ok" | "fail" | "info" = "ok",
): OperationSpec => ({
  process,
  f: "cas",
  key: "x",
  call,
  ...(ret === undefined ? {} : { return: ret }),
  type,
  input: [expected, value],
});
const info = (spec: OperationSpec): OperationSpec => ({ ...spec, type: "info" });

function check(specs: readonly OperationSpec[]): LinearizabilityResult<KvInput, KvOutput> {
  return checkKvHistory(buildHistory(specs));
}

/**
 * Dropping any one operation must give a linearizable history or, when shrinking preserved
 * support, one whose results no order explains (the dropped operation was the write a read
 * depends on).
 */
function expectOneMinimal(result: NotLinearizableResult<KvInput, KvOutput>): void {
  expect(result.minimal).toBe(true);
  const history = result.minimalHistory;
  for (let i = 0; i < history.length; i++) {
    const rest = history.filter((_, j) => j !== i);
    const verdict = checkLinearizability(kvRegisterModel, rest).valid;
    if (!result.supportPreserving || verdict === true) {
      expect(verdict).toBe(true);
      continue;
    }
    const orderless = rest.map((op) => ({
      ...op,
      call: 0,
      return: op.return === Infinity ? op.return : 1,
    }));
    expect(checkLinearizability(kvRegisterModel, orderless).valid).toBe(false);
  }
}

describe("checkKvHistory", () => {
  it("accepts an empty history", () => {
    expect(check([])).toMatchObject({ valid: true, keys: 0 });
  });

  it("accepts a sequential put then get", () => {
    expect(check([put(0, 0, 1, 1), get(1, 2, 3, 1)]).valid).toBe(true);
  });

  it("rejects a stale read after a completed write and keeps the write it read", () => {
    const result = check([put(0, 0, 1, 1), put(0, 2, 3, 2), get(1, 4, 5, 1)]);
    expect(result.valid).toBe(false);
    if (result.valid !== false) return;
    expect(result.key).toBe("x");
    expect(result.kind).toBe("real-time");
    expect(result.minimal).toBe(true);
    expect(result.minimalHistory.map((op) => op.id)).toEqual([0, 2, 4]);
    expect(result.explanation).toContain("none respects real time");
    expectOneMinimal(result);
  });

  it("rejects a read of nil after a completed write, keeping both operations as the minimal history", () => {
    const result = check([put(0, 0, 1, 7), get(1, 2, 3, 3, "y"), get(1, 4, 5, null)]);
    expect(result.valid).toBe(false);
    if (result.valid !== false) return;
    expect(result.minimalHistory.map((op) => op.input.f)).toEqual(["put", "get"]);
    expect(result.minimal).toBe(true);
    expect(result.explanation).toContain("get() -> nil");
    expect(result.explanation).toContain("refuses it in state 7");
    expectOneMinimal(result);
  });

  it("accepts concurrent writes observed in either order", () => {
    const writes = [put(0, 0, 10, 1), put(1, 0, 10, 2)];
    expect(check([...writes, get(2, 11, 12, 1)]).valid).toBe(true);
    expect(check([...writes, get(2, 11, 12, 2)]).valid).toBe(true);
    expect(check([...writes, get(2, 1, 2, 2), get(2, 3, 4, 1)]).valid).toBe(true);
    expect(check([...writes, get(2, 1, 2, 1), get(2, 3, 4, 2)]).valid).toBe(true);
  });

  it("rejects reads that flip back between two concurrent writes", () => {
    const result = check([
      put(0, 0, 10, 1),
      put(1, 0, 10, 2),
      get(2, 1, 2, 1),
      get(2, 3, 4, 2),
      get(2, 5, 6, 1),
    ]);
    expect(result.valid).toBe(false);
    if (result.valid !== false) return;
    expect(result).toMatchObject({ kind: "real-time", minimal: true });
    expect(result.minimalHistory).toHaveLength(5);
    expectOneMinimal(result);
  });

  it("treats operations touching at one instant as concurrent", () => {
    // The get is invoked at the instant the put returns: either order is allowed.
    expect(check([put(0, 0, 5, 1), get(1, 5, 6, null)]).valid).toBe(true);
    expect(check([put(0, 0, 5, 1), get(1, 6, 7, null)]).valid).toBe(false);
  });

  it("accepts a chain of successful compare-and-sets", () => {
    const result = check([
      put(0, 0, 1, 0),
      cas(0, 2, 3, 0, 1),
      cas(1, 4, 5, 1, 2),
      get(2, 6, 7, 2),
    ]);
    expect(result.valid).toBe(true);
  });

  it("rejects a compare-and-set that succeeded against the wrong value", () => {
    const result = check([put(0, 0, 1, 5), cas(1, 2, 3, 0, 1)]);
    expect(result.valid).toBe(false);
    if (result.valid !== false) return;
    expect(result).toMatchObject({ kind: "value", minimal: true });
    expect(result.minimalHistory.map((op) => op.input.f)).toEqual(["cas"]);
    expectOneMinimal(result);
  });

  it("rejects two compare-and-sets from nil that both succeeded", () => {
    const result = check([cas(0, 0, 1, null, 1), cas(1, 2, 3, null, 2)]);
    expect(result.valid).toBe(false);
    if (result.valid !== false) return;
    expect(result.minimalHistory).toHaveLength(2);
    expect(result.minimal).toBe(true);
  });

  it("drops a failed compare-and-set", () => {
    expect(check([put(0, 0, 1, 0), cas(1, 2, 3, 0, 9, "fail"), get(2, 4, 5, 0)]).valid).toBe(true);
  });

  it("uses an explicit not-swapped result as evidence", () => {
    const ops: Operation<KvInput, KvOutput>[] = [
      {
        id: 0,
        process: 0,
        key: "x",
        input: { f: "put", value: 1 },
        output: { f: "put" },
        call: 0,
        return: 1,
      },
      {
        id: 1,
        process: 1,
        key: "x",
        input: { f: "cas", expected: 1, value: 2 },
        output: { f: "cas", swapped: false },
        call: 2,
        return: 3,
      },
    ];
    expect(checkLinearizability(kvRegisterModel, ops).valid).toBe(false);
    const concurrent = ops.map((op) => ({ ...op, call: 0, return: 3 }));
    expect(checkLinearizability(kvRegisterModel, concurrent).valid).toBe(true);
  });

  it("assumes an indeterminate write happened when a read saw it", () => {
    expect(check([info(put(0, 0, 1, 1)), get(1, 5, 6, 1)]).valid).toBe(true);
    // Not yet visible, then visible: it took effect late, after its client gave up.
    expect(check([info(put(0, 0, 1, 1)), get(1, 5, 6, null), get(1, 7, 8, 1)]).valid).toBe(true);
    // An invoke with no completion at all is indeterminate too.
    expect(check([put(0, 0, undefined, 1), get(1, 5, 6, 1)]).valid).toBe(true);
  });

  it("does not assume an indeterminate write happened when reads say otherwise", () => {
    expect(check([put(0, 0, 1, 1), info(put(1, 2, 3, 2)), get(2, 4, 5, 1)]).valid).toBe(true);
    expect(
      check([put(0, 0, 1, 1), info(put(1, 2, 3, 2)), get(2, 4, 5, 2), get(2, 6, 7, 1)]).valid,
    ).toBe(false);
    // Once seen, an indeterminate write cannot be undone.
    expect(check([info(put(0, 0, 1, 1)), get(1, 5, 6, 1), get(1, 7, 8, null)]).valid).toBe(false);
  });

  it("cannot linearize an indeterminate write before its invoke", () => {
    expect(check([get(1, 0, 1, 1), info(put(0, 2, 3, 1))]).valid).toBe(false);
  });

  it("applies an indeterminate compare-and-set only when its compare holds", () => {
    expect(
      check([put(0, 0, 1, 0), cas(1, 2, undefined, 0, 1, "info"), get(2, 4, 5, 1)]).valid,
    ).toBe(true);
    expect(
      check([put(0, 0, 1, 5), cas(1, 2, undefined, 0, 1, "info"), get(2, 4, 5, 1)]).valid,
    ).toBe(false);
  });

  it("rejects a read of a value never written", () => {
    const result = check([put(0, 0, 1, 1), get(1, 2, 3, 42)]);
    expect(result.valid).toBe(false);
    if (result.valid !== false) return;
    expect(result.minimalHistory.map((op) => op.id)).toEqual([2]);
    expect(result.kind).toBe("value");
    expect(result.explanation).toContain("get() -> 42");
    expect(result.explanation).toContain("no order of these operations explains");
  });

  it("checks keys independently and reports every failing key", () => {
    const result = check([
      put(0, 0, 1, 1, "a"),
      put(1, 0, 1, 1, "b"),
      get(0, 2, 3, 1, "a"),
      get(1, 2, 3, 1, "b"),
      get(2, 0, 1, 2, "c"),
      get(3, 0, 1, 5, "d"),
    ]);
    expect(result.valid).toBe(false);
    if (result.valid !== false) return;
    expect(result.key).toBe("c");
    expect(result.invalidKeys).toEqual(["c", "d"]);
    expect(check([put(0, 0, 1, 1, "a"), get(1, 2, 3, null, "b")])).toMatchObject({
      valid: true,
      keys: 2,
    });
  });

  it("finds a 1-minimal history inside a long failing one", () => {
    const specs: OperationSpec[] = [];
    for (let i = 0; i < 40; i++) {
      specs.push(put(i % 4, 10 * i, 10 * i + 12, i));
      specs.push(get(4 + (i % 3), 10 * i + 5, 10 * i + 15, i));
    }
    // A compare-and-set that claims to swap from a value overwritten long ago.
    specs.push(cas(9, 500, 505, 3, 99));
    const result = check(specs);
    expect(result.valid).toBe(false);
    if (result.valid !== false) return;
    expect(result.minimalHistory.length).toBeLessThan(6);
    expectOneMinimal(result);
    expect(result.failingPrefixLength).toBeGreaterThan(result.minimalHistory.length);
    expect(result.explanation).toContain("context: in the failing prefix");
  });

  it("shrinks a stale read at the end of a long sequential history", () => {
    const specs: OperationSpec[] = [];
    for (let i = 0; i < 30; i++) {
      specs.push(put(0, 4 * i, 4 * i + 1, i));
      specs.push(get(1, 4 * i + 2, 4 * i + 3, i));
    }
    specs.push(get(2, 200, 201, 5));
    const result = check(specs);
    expect(result.valid).toBe(false);
    if (result.valid !== false) return;
    expectOneMinimal(result);
    expect(result.minimalHistory.some((op) => op.id === 120)).toBe(true);
  });

  it("answers unknown when the step budget runs out on a highly concurrent history", () => {
    const specs: OperationSpec[] = [];
    for (let i = 0; i < 24; i++) specs.push(put(i, 0, 100, i));
    specs.push(get(99, 0, 100, 1000));
    const result = checkKvHistory(buildHistory(specs), { maxStepsPerKey: 20_000 });
    expect(result.valid).toBe("unknown");
    if (result.valid !== "unknown") return;
    expect(result.reason).toContain("step budget");
    expect(result.unknownKeys).toEqual(["x"]);
  });

  it("answers unknown on a large generated history with ~100 concurrent clients and one bad read", () => {
    const plan: PlannedKvOperation[] = Array.from({ length: 2_000 }, (_, i) => ({
      key: "x",
      f: i % 3 === 0 ? "get" : "put",
      value: i,
      expected: null,
      lead: (i * 7919) % 500,
      lag: (i * 104_729) % 500,
      outcome: "ok",
    }));
    const events = generateKvHistory(plan);
    const last = events.findLastIndex((e) => e.f === "get" && e.type === "ok");
    const mutated = events.map((e, i) => (i === last ? { ...e, value: -1 } : e));
    const result = checkKvHistory(mutated, { maxStepsPerKey: 50_000 });
    expect(result).toMatchObject({ valid: "unknown", unknownKeys: ["x"] });
  });

  it("answers unknown when the memo cache outgrows its budget", () => {
    const specs: OperationSpec[] = [];
    for (let i = 0; i < 24; i++) specs.push(put(i, 0, 100, i));
    specs.push(get(99, 0, 100, 1000));
    const result = checkKvHistory(buildHistory(specs), { maxCacheBytesPerKey: 64 * 1024 });
    expect(result).toMatchObject({ valid: "unknown" });
    if (result.valid !== "unknown") return;
    expect(result.reason).toContain("memo cache");
  });

  it("answers unknown when the injected wall clock runs out", () => {
    const specs: OperationSpec[] = [];
    for (let i = 0; i < 24; i++) specs.push(put(i, 0, 100, i));
    specs.push(get(99, 0, 100, 1000));
    let fakeMs = 0;
    const clock = { now: () => fakeMs++, budgetMs: 3 };
    const result = checkKvHistory(buildHistory(specs), { clock });
    expect(result).toMatchObject({ valid: "unknown" });
    if (result.valid !== "unknown") return;
    expect(result.reason).toContain("wall-clock");
  });

  it("reports a definite failure on one key over an unknown on another", () => {
    const specs: OperationSpec[] = [];
    for (let i = 0; i < 24; i++) specs.push(put(i, 0, 100, i));
    specs.push(get(99, 0, 100, 1000));
    specs.push(get(100, 0, 1, 7, "y"));
    const result = checkKvHistory(buildHistory(specs), { maxStepsPerKey: 20_000 });
    expect(result).toMatchObject({ valid: false, key: "y", invalidKeys: ["y"] });
  });

  it("can skip shrinking", () => {
    const result = checkKvHistory(
      buildHistory([put(0, 0, 1, 1), put(0, 2, 3, 2), get(1, 4, 5, 1)]),
      {
        shrink: false,
      },
    );
    expect(result).toMatchObject({ valid: false, minimal: false });
    if (result.valid !== false) return;
    expect(result.minimalHistory).toHaveLength(3);
  });

  it("drops indeterminate reads up front", () => {
    const ops = kvOperationsFromHistory(
      buildHistory([
        put(0, 0, 1, 1),
        { process: 1, f: "get", key: "x", call: 2, return: 3, type: "info" },
      ]),
    );
    expect(ops[1]?.output).toBeUndefined();
    expect(checkLinearizability(kvRegisterModel, ops)).toMatchObject({
      valid: true,
      operations: 2,
    });
  });
});
