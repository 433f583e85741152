import { describe, expect, it } from "vitest";
import { ReadBarriers } from "../../src/driver/read-barriers";
import { ServerError } from "../../src/index";

describe("ReadBarriers", () => {
  it("resolves a confirmed barrier once applied reaches its index, in any order of events", () => {
    const reads = new ReadBarriers();
    const seen: (number | string)[] = [];
    reads.add(
      1000,
      (a) => seen.push(a),
      (e) => seen.push(e.code),
    );
    reads.add(
      1000,
      (a) => seen.push(a),
      (e) => seen.push(e.code),
    );
    let n = 0;
    reads.submit(() => `r${++n}`);
    expect(reads.queuedCount()).toBe(0);
    const fail = (code: "NOT_LEADER" | "CLOSED") => new ServerError(code, code);
    reads.update([{ id: "r1", index: 10 }], 5, fail);
    expect(seen).toEqual([]);
    reads.update([{ id: "r2", index: 0, code: "NOT_LEADER" }], 9, fail);
    expect(seen).toEqual(["NOT_LEADER"]);
    reads.update([], 10, fail);
    expect(seen).toEqual(["NOT_LEADER", 10]);
    expect(reads.size()).toBe(0);
  });

  it("expires barriers past their deadline and rejects all on stop", () => {
    const reads = new ReadBarriers();
    const seen: string[] = [];
    reads.add(
      50,
      () => seen.push("ok"),
      (e) => seen.push(e.code),
    );
    reads.add(
      80,
      () => seen.push("ok"),
      (e) => seen.push(e.code),
    );
    reads.add(
      90,
      () => seen.push("ok"),
      (e) => seen.push(e.code),
    );
    let n = 0;
    reads.submit(() => `r${++n}`);
    expect(reads.nextDeadline()).toBe(50);
    reads.expire(60, () => new ServerError("TIMEOUT", "t"));
    expect(seen).toEqual(["TIMEOUT"]);
    reads.rejectAll(new ServerError("CLOSED", "c"));
    expect(seen).toEqual(["TIMEOUT", "CLOSED", "CLOSED"]);
  });
});
