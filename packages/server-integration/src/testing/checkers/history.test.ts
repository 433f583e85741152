import { RaftError } from "@raft/codec";
import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "./history";
import { pairHistory } from "./history";
import { HISTORY_ERROR_CODES, HistoryError } from "./history-error";
import { kvOperationsFromHistory } from "./kv-model";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof HistoryError) return error.code;
    throw error;
  }
  return undefined;
}

describe("pairHistory", () => {
  it("joins invokes with their completions and closes open ones as info", () => {
    const events: HistoryEvent[] = [
      { process: 0, type: "invoke", f: "put", key: "x", value: 1, time: 0 },
      { process: 1, type: "invoke", f: "get", key: "x", time: 1 },
      { process: 0, type: "ok", f: "put", key: "x", value: 1, time: 2 },
      { process: 0, type: "invoke", f: "put", key: "x", value: 2, time: 3 },
      { process: 0, type: "fail", f: "put", key: "x", time: 4 },
    ];
    const ops = pairHistory(events);
    expect(ops.map((op) => [op.index, op.status, op.call, op.return])).toEqual([
      [0, "ok", 0, 2],
      [1, "info", 1, Number.POSITIVE_INFINITY],
      [3, "fail", 3, 4],
    ]);
    expect(ops[1]?.output).toBeUndefined();
  });

  it("gives an info completion an infinite return time", () => {
    const ops = pairHistory([
      { process: "a", type: "invoke", f: "put", value: 1, time: 0 },
      { process: "a", type: "info", f: "put", time: 5 },
      { process: "a", type: "invoke", f: "put", value: 2, time: 6 },
    ]);
    expect(ops.map((op) => op.return)).toEqual([
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
    ]);
  });

  it("rejects malformed histories with typed errors", () => {
    const invoke: HistoryEvent = {
      process: 0,
      type: "invoke",
      f: "put",
      key: "x",
      value: 1,
      time: 0,
    };
    expect(codeOf(() => pairHistory([invoke, { ...invoke, time: 1 }]))).toBe("DOUBLE_INVOKE");
    expect(codeOf(() => pairHistory([{ ...invoke, type: "ok" }]))).toBe("UNMATCHED_COMPLETION");
    expect(codeOf(() => pairHistory([invoke, { ...invoke, type: "ok", f: "get" }]))).toBe(
      "MISMATCHED_COMPLETION",
    );
    expect(codeOf(() => pairHistory([invoke, { ...invoke, type: "ok", key: "y" }]))).toBe(
      "MISMATCHED_COMPLETION",
    );
    expect(
      codeOf(() =>
        pairHistory([
          { ...invoke, time: 5 },
          { ...invoke, type: "ok", time: 4 },
        ]),
      ),
    ).toBe("BAD_TIME");
    expect(codeOf(() => pairHistory([{ ...invoke, time: Number.NaN }]))).toBe("BAD_TIME");
  });

  it("throws a RaftError subclass carrying the closed code", () => {
    try {
      pairHistory([{ process: 0, type: "ok", f: "put", time: 0 }]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RaftError);
      expect((error as HistoryError).name).toBe("HistoryError");
      expect(HISTORY_ERROR_CODES).toContain((error as HistoryError).code);
    }
  });

  it("reports the offending event index", () => {
    const invoke: HistoryEvent = {
      process: 0,
      type: "invoke",
      f: "put",
      key: "x",
      value: 1,
      time: 0,
    };
    try {
      pairHistory([invoke, { ...invoke, process: 1, type: "ok" }]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HistoryError);
      expect((error as HistoryError).eventIndex).toBe(1);
    }
  });
});

describe("kvOperationsFromHistory", () => {
  it("rejects unknown functions, missing keys and malformed values", () => {
    const base = { process: 0, type: "invoke", time: 0 } as const;
    expect(codeOf(() => kvOperationsFromHistory([{ ...base, f: "append", key: "x" }]))).toBe(
      "BAD_OPERATION",
    );
    expect(codeOf(() => kvOperationsFromHistory([{ ...base, f: "put", value: 1 }]))).toBe(
      "BAD_OPERATION",
    );
    expect(
      codeOf(() => kvOperationsFromHistory([{ ...base, f: "put", key: "x", value: { a: 1 } }])),
    ).toBe("BAD_OPERATION");
    expect(codeOf(() => kvOperationsFromHistory([{ ...base, f: "cas", key: "x", value: 1 }]))).toBe(
      "BAD_OPERATION",
    );
    expect(
      codeOf(() =>
        kvOperationsFromHistory([
          { ...base, f: "get", key: "x" },
          { process: 0, type: "ok", f: "get", key: "x", value: [1], time: 1 },
        ]),
      ),
    ).toBe("BAD_OPERATION");
  });

  it("drops failed operations and keeps indeterminate ones without output", () => {
    const ops = kvOperationsFromHistory([
      { process: 0, type: "invoke", f: "put", key: "x", value: 1, time: 0 },
      { process: 0, type: "fail", f: "put", key: "x", time: 1 },
      { process: 1, type: "invoke", f: "cas", key: "x", value: [null, 2], time: 2 },
      { process: 1, type: "info", f: "cas", key: "x", time: 3 },
    ]);
    expect(ops).toEqual([
      {
        id: 2,
        process: 1,
        key: "x",
        input: { f: "cas", expected: null, value: 2 },
        output: undefined,
        call: 2,
        return: Number.POSITIVE_INFINITY,
      },
    ]);
  });
});
