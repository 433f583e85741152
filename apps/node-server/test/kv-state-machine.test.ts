import { encodePayload } from "@raft/codec";
import { describe, expect, it } from "vitest";
import type { KvCommand } from "../src/kv-state-machine";
import { createKvStateMachine } from "../src/kv-state-machine";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("KvStateMachine", () => {
  it("applies puts and deletes in order and reports the writing index", () => {
    const sm = createKvStateMachine();
    const results = sm.apply([
      { index: 5, command: { op: "put", key: "a", value: bytes("1") } },
      { index: 5, command: { op: "put", key: "a", value: bytes("2") } },
      { index: 6, command: { op: "delete", key: "b" } },
    ]);
    expect(results).toEqual([
      { ok: true, revision: 5, existed: false },
      { ok: true, revision: 5, existed: true },
      { ok: true, revision: 6, existed: false },
    ]);
    expect(sm.get("a")).toEqual({ value: bytes("2"), revision: 5 });
    expect(sm.size()).toBe(1);
  });

  it("skips a malformed command with a result instead of throwing", () => {
    const sm = createKvStateMachine();
    const junk = [
      null,
      7,
      { op: "put", key: 1 },
      { op: "put", key: "k", value: "text" },
      { op: "zap", key: "k" },
    ];
    const results = sm.apply(
      junk.map((command, i) => ({ index: i + 1, command: command as unknown as KvCommand })),
    );
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(sm.size()).toBe(0);
  });

  it("restores exactly the state it snapshotted", () => {
    const a = createKvStateMachine();
    a.apply([
      { index: 1, command: { op: "put", key: "x", value: bytes("1") } },
      { index: 2, command: { op: "put", key: "y", value: new Uint8Array([0, 255]) } },
    ]);
    const b = createKvStateMachine();
    b.restore(a.snapshot());
    expect(b.get("x")).toEqual({ value: bytes("1"), revision: 1 });
    expect([...(b.get("y")?.value ?? [])]).toEqual([0, 255]);
    expect(b.size()).toBe(2);
  });

  it("rejects bytes that are not one of its snapshots", () => {
    const sm = createKvStateMachine();
    expect(() => sm.restore(encodePayload({ v: 2, entries: [] }))).toThrow(/unknown format/);
    expect(() => sm.restore(encodePayload({ v: 1, entries: [["k", "not bytes", 1]] }))).toThrow(
      /malformed/,
    );
  });
});
