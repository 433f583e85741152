import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "./history";
import { HistoryError } from "./history-error";
import type { QueueRead } from "./queue-checker";
import { checkQueue } from "./queue-checker";

interface Append {
  readonly value: string;
  readonly call: number;
  readonly return?: number;
  readonly type?: "ok" | "fail" | "info";
}

/** Appends as events; process = producer, so one producer's appends are sequential. */
function appends(list: readonly Append[]): HistoryEvent[] {
  const timed: { time: number; order: number; event: HistoryEvent }[] = [];
  list.forEach((a, i) => {
    const process = a.value.split("-")[0] as string;
    timed.push({
      time: a.call,
      order: 2 * i,
      event: { process, type: "invoke", f: "append", value: a.value, time: a.call },
    });
    if (a.return !== undefined) {
      timed.push({
        time: a.return,
        order: 2 * i + 1,
        event: { process, type: a.type ?? "ok", f: "append", value: a.value, time: a.return },
      });
    }
  });
  timed.sort((x, y) => x.time - y.time || x.order - y.order);
  return timed.map((t) => t.event);
}

/** Producer p appends p-0 … p-(count-1), each acknowledged before the next starts. */
function sequential(producer: string, count: number, start = 0): Append[] {
  return Array.from({ length: count }, (_, i) => ({
    value: `${producer}-${i}`,
    call: start + 10 * i,
    return: start + 10 * i + 5,
  }));
}

const same = (values: readonly string[], nodes = ["n1", "n2", "n3"]): QueueRead[] =>
  nodes.map((node) => ({ node, values }));

describe("checkQueue", () => {
  it("accepts a history where every node holds every acknowledged value in order", () => {
    const history = appends([...sequential("0", 5), ...sequential("1", 5, 2)]);
    const order = ["0-0", "1-0", "0-1", "1-1", "0-2", "1-2", "0-3", "1-3", "0-4", "1-4"];
    const report = checkQueue({ history, reads: same(order) });
    expect(report).toMatchObject({
      valid: true,
      attempted: 10,
      acknowledged: 10,
      okCount: 10,
      lost: { count: 0 },
      unexpected: [],
      duplicateCount: 0,
      orderViolationCount: 0,
    });
    expect(report.nodes.every((n) => n.valid)).toBe(true);
  });

  it("splits lost values into prefix, middle and postfix per producer", () => {
    const history = appends(sequential("0", 10));
    const read = ["0-1", "0-2", "0-3", "0-5", "0-6", "0-7", "0-8"];
    const report = checkQueue({ history, reads: same(read) });
    expect(report.valid).toBe(false);
    expect(report.lost).toEqual({ prefix: ["0-0"], middle: ["0-4"], postfix: ["0-9"], count: 3 });
    expect(report.okCount).toBe(7);
  });

  it("counts every lost value of a producer with nothing read as middle", () => {
    const history = appends([...sequential("0", 2), ...sequential("1", 3)]);
    const report = checkQueue({ history, reads: same(["0-0", "0-1"]) });
    expect(report.lost).toEqual({
      prefix: [],
      middle: ["1-0", "1-1", "1-2"],
      postfix: [],
      count: 3,
    });
  });

  it("orders lost values numerically by counter", () => {
    const history = appends(sequential("7", 12));
    const read = sequential("7", 12)
      .map((a) => a.value)
      .filter((v) => v !== "7-2" && v !== "7-10");
    expect(checkQueue({ history, reads: same(read) }).lost.middle).toEqual(["7-2", "7-10"]);
  });

  it("reports values read but never attempted as unexpected", () => {
    const history = appends(sequential("0", 2));
    const report = checkQueue({ history, reads: same(["0-0", "9-99", "0-1", "garbage"]) });
    expect(report.valid).toBe(false);
    expect(report.unexpected).toEqual(["9-99", "garbage"]);
  });

  it("accepts indeterminate appends that were read, as recovered", () => {
    const history = appends([
      { value: "0-0", call: 0, return: 5 },
      { value: "0-1", call: 10, return: 15, type: "info" },
      { value: "1-0", call: 0 },
      { value: "2-0", call: 1, return: 2, type: "info" },
    ]);
    const report = checkQueue({ history, reads: same(["0-0", "0-1", "1-0"]) });
    expect(report).toMatchObject({ valid: true, indeterminate: 3, acknowledged: 1, okCount: 3 });
    expect(report.recovered).toEqual(["0-1", "1-0"]);
    expect(report.lost.count).toBe(0);
  });

  it("rejects a failed append that was read anyway", () => {
    const history = appends([
      { value: "0-0", call: 0, return: 5 },
      { value: "0-1", call: 10, return: 15, type: "fail" },
    ]);
    const report = checkQueue({ history, reads: same(["0-0", "0-1"]) });
    expect(report.valid).toBe(false);
    expect(report.failed).toBe(1);
    expect(report.failedButRead).toEqual(["0-1"]);
  });

  it("allows and counts duplicates", () => {
    const history = appends(sequential("0", 3));
    const report = checkQueue({ history, reads: same(["0-0", "0-1", "0-1", "0-2", "0-2"]) });
    expect(report.valid).toBe(true);
    expect(report.duplicates).toEqual(["0-1", "0-2"]);
    expect(report.duplicateCount).toBe(6);
    expect(report.nodes[0]?.duplicateCount).toBe(2);
  });

  it("finds a value missing on one node only, as divergence and per-node loss", () => {
    const history = appends(sequential("0", 4));
    const full = ["0-0", "0-1", "0-2", "0-3"];
    const reads: QueueRead[] = [
      { node: "n1", values: full },
      { node: "n2", values: full },
      { node: "n3", values: ["0-0", "0-2", "0-3"] },
    ];
    const report = checkQueue({ history, reads });
    expect(report.valid).toBe(false);
    expect(report.lost.count).toBe(0);
    expect(report.nodes.map((n) => [n.node, n.valid, n.lost.middle])).toEqual([
      ["n1", true, []],
      ["n2", true, []],
      ["n3", false, ["0-1"]],
    ]);
    expect(report.divergent).toEqual([{ value: "0-1", missingOn: ["n3"] }]);
    expect(report.divergentReplicas).toContainEqual({
      nodeA: "n1",
      nodeB: "n3",
      position: 1,
      valueA: "0-1",
      valueB: "0-2",
    });
  });

  it("tolerates a lagging node only when asked", () => {
    const history = appends(sequential("0", 4));
    const reads: QueueRead[] = [
      { node: "n1", values: ["0-0", "0-1", "0-2", "0-3"] },
      { node: "n2", values: ["0-0", "0-1"] },
    ];
    const strict = checkQueue({ history, reads });
    expect(strict.valid).toBe(false);
    expect(strict.nodes[1]?.lost.postfix).toEqual(["0-2", "0-3"]);
    expect(strict.divergentReplicas).toEqual([]);
    expect(checkQueue({ history, reads }, { allowNodeLag: true }).valid).toBe(true);
  });

  it("finds replicas that hold different values at one position", () => {
    const history = appends([...sequential("0", 2), ...sequential("1", 2, 1)]);
    const reads: QueueRead[] = [
      { node: "n1", values: ["0-0", "1-0", "0-1", "1-1"] },
      { node: "n2", values: ["0-0", "1-0", "1-1", "0-1"] },
    ];
    const report = checkQueue({ history, reads });
    expect(report.valid).toBe(false);
    expect(report.divergentReplicas).toEqual([
      { nodeA: "n1", nodeB: "n2", position: 2, valueA: "0-1", valueB: "1-1" },
    ]);
  });

  it("rejects an append acknowledged before another was invoked but placed after it", () => {
    const history = appends([
      { value: "0-0", call: 0, return: 5 },
      { value: "1-0", call: 6, return: 8 },
    ]);
    const report = checkQueue({ history, reads: same(["1-0", "0-0"], ["n1"]) });
    expect(report.valid).toBe(false);
    expect(report.orderViolationCount).toBe(1);
    expect(report.orderViolations).toEqual([
      { node: "n1", earlier: "0-0", later: "1-0", earlierPosition: 1, laterPosition: 0 },
    ]);
  });

  it("allows any order between overlapping appends, including ones touching at one instant", () => {
    const history = appends([
      { value: "0-0", call: 0, return: 5 },
      { value: "1-0", call: 5, return: 8 },
      { value: "2-0", call: 1, return: 9 },
    ]);
    const report = checkQueue({ history, reads: same(["2-0", "1-0", "0-0"], ["n1"]) });
    expect(report.orderViolationCount).toBe(0);
    expect(report.valid).toBe(true);
  });

  it("checks order against indeterminate appends that were read", () => {
    const history = appends([
      { value: "0-0", call: 0, return: 5 },
      { value: "1-0", call: 6, return: 7, type: "info" },
    ]);
    const report = checkQueue({ history, reads: same(["1-0", "0-0"], ["n1"]) });
    expect(report.orderViolationCount).toBe(1);
  });

  it("bounds the listed order violations but counts all", () => {
    const list = sequential("0", 30);
    const history = appends(list);
    const reversed = list.map((a) => a.value).reverse();
    const report = checkQueue(
      { history, reads: same(reversed, ["n1"]) },
      { maxOrderViolations: 5 },
    );
    expect(report.orderViolationCount).toBe(29);
    expect(report.orderViolations).toHaveLength(5);
  });

  it("counts every acknowledged value as lost when nothing was read", () => {
    const report = checkQueue({ history: appends(sequential("0", 3)), reads: [] });
    expect(report.lost.count).toBe(3);
    expect(report.valid).toBe(false);
  });

  it("rejects malformed queue histories with typed errors", () => {
    const codeOf = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (error) {
        if (error instanceof HistoryError) return error.code;
        throw error;
      }
      return undefined;
    };
    const twice = appends([
      { value: "0-0", call: 0, return: 1 },
      { value: "0-0", call: 2, return: 3 },
    ]);
    expect(codeOf(() => checkQueue({ history: twice, reads: [] }))).toBe("DUPLICATE_VALUE");
    const bad: HistoryEvent[] = [
      { process: 0, type: "invoke", f: "append", value: "nodash", time: 0 },
    ];
    expect(codeOf(() => checkQueue({ history: bad, reads: [] }))).toBe("BAD_OPERATION");
    const numeric: HistoryEvent[] = [
      { process: 0, type: "invoke", f: "append", value: 5, time: 0 },
    ];
    expect(codeOf(() => checkQueue({ history: numeric, reads: [] }))).toBe("BAD_OPERATION");
    expect(
      codeOf(() =>
        checkQueue({
          history: [],
          reads: [
            { node: "n1", values: [] },
            { node: "n1", values: [] },
          ],
        }),
      ),
    ).toBe("BAD_OPERATION");
  });

  it("ignores events of other functions", () => {
    const history: HistoryEvent[] = [
      ...appends(sequential("0", 1)),
      { process: "r", type: "invoke", f: "read", time: 10 },
      { process: "r", type: "ok", f: "read", value: ["0-0"], time: 11 },
    ];
    expect(checkQueue({ history, reads: same(["0-0"]) }).valid).toBe(true);
  });
});
