import { encodePayload } from "@raft/codec";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createStreamStateMachine,
  encodeHeaderBlock,
  JetStreamError,
  type StreamCommand,
  type StreamStateMachine,
} from "../src/index";
import { commandsArb, configArb, propertyParams } from "./arbitraries";

function applyAll(sm: StreamStateMachine, commands: readonly StreamCommand[]): unknown[] {
  return sm.apply(commands.map((command, i) => ({ index: i + 1, command }))) as unknown[];
}

function view(sm: StreamStateMachine): unknown {
  const store = sm.store;
  return {
    state: store.state(),
    clock: store.clock(),
    lastMsgId: store.lastMsgId(),
    messages: [...store.messages()].map((m) => [
      m.seq,
      m.subject,
      [...m.headers],
      [...m.data],
      m.ts,
    ]),
  };
}

function expectBadSnapshot(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(JetStreamError);
    expect((error as JetStreamError).code).toBe("BAD_SNAPSHOT");
    return;
  }
  throw new Error("expected BAD_SNAPSHOT");
}

const split = fc
  .tuple(configArb, commandsArb, fc.nat())
  .map(([config, commands, at]) => ({ config, commands, at: at % (commands.length + 1) }));

describe("stream snapshots", () => {
  it("restore gives the same state and the same future behaviour", () => {
    fc.assert(
      fc.property(split, ({ config, commands, at }) => {
        const original = createStreamStateMachine(config);
        applyAll(original, commands.slice(0, at));
        const copy = createStreamStateMachine(config);
        copy.restore(original.snapshot());
        expect(view(copy)).toEqual(view(original));
        expect(applyAll(copy, commands.slice(at))).toEqual(applyAll(original, commands.slice(at)));
        expect(view(copy)).toEqual(view(original));
        expect(copy.snapshot()).toEqual(original.snapshot());
      }),
      propertyParams(200),
    );
  });

  it("refuses random bytes with BAD_SNAPSHOT and keeps the state", () => {
    const sm = createStreamStateMachine({ name: "S", subjects: ["a"] });
    applyAll(sm, [{ op: "publish", subject: "a", data: new Uint8Array([1]), ts: 5 }]);
    const before = view(sm);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expectBadSnapshot(() => sm.restore(bytes));
        expect(view(sm)).toEqual(before);
      }),
      propertyParams(1000),
    );
  });

  it("refuses random MessagePack values, also shaped like a snapshot, with BAD_SNAPSHOT", () => {
    const shaped = fc.record({
      v: fc.oneof(fc.constant(1), fc.anything()),
      kind: fc.oneof(fc.constant("jetstream-stream"), fc.string()),
      config: fc.oneof(fc.constant({ name: "S" }), fc.anything()),
      clock: fc.oneof(fc.nat(), fc.anything()),
      last_seq: fc.oneof(fc.nat(), fc.anything()),
      last_ts: fc.anything(),
      last_msg_id: fc.anything(),
      messages: fc.oneof(fc.array(fc.array(fc.anything(), { maxLength: 6 })), fc.anything()),
      dedupe: fc.anything(),
    });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), shaped), (value) => {
        let bytes: Uint8Array;
        try {
          bytes = encodePayload(value);
        } catch {
          return; // not encodable: nothing to restore
        }
        try {
          createStreamStateMachine({ name: "S" }).restore(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(JetStreamError);
          expect((error as JetStreamError).code).toBe("BAD_SNAPSHOT");
        }
      }),
      propertyParams(1000),
    );
  });

  it("refuses every truncation of a real snapshot with BAD_SNAPSHOT", () => {
    const sm = createStreamStateMachine({ name: "S", subjects: ["a", "b"] });
    applyAll(sm, [
      { op: "publish", subject: "a", data: new Uint8Array([1, 2]), ts: 5 },
      {
        op: "publish",
        subject: "b",
        headers: encodeHeaderBlock({ "Nats-Msg-Id": "x" }),
        data: new Uint8Array(0),
        ts: 9,
      },
    ]);
    const bytes = sm.snapshot();
    for (let cut = 0; cut < bytes.length; cut++) {
      expectBadSnapshot(() => createStreamStateMachine({ name: "S" }).restore(bytes.slice(0, cut)));
    }
  });

  it("never fails other than BAD_SNAPSHOT on a snapshot with one byte changed", () => {
    const sm = createStreamStateMachine({ name: "S", subjects: ["a", "b"], max_msgs: 5 });
    applyAll(
      sm,
      Array.from({ length: 6 }, (_, i) => ({
        op: "publish" as const,
        subject: i % 2 === 0 ? "a" : "b",
        headers: encodeHeaderBlock({ "Nats-Msg-Id": `id${i}` }),
        data: new Uint8Array([i]),
        ts: 100 + i,
      })),
    );
    const bytes = sm.snapshot();
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const damaged = bytes.slice();
        damaged[at] = (damaged[at] ?? 0) ^ x;
        const target = createStreamStateMachine({ name: "S" });
        try {
          target.restore(damaged);
          // A change that still decodes must still give a store that keeps its invariants.
          const state = target.store.state();
          expect(state.messages).toBe([...target.store.messages()].length);
        } catch (error) {
          expect(error).toBeInstanceOf(JetStreamError);
          expect((error as JetStreamError).code).toBe("BAD_SNAPSHOT");
        }
      }),
      propertyParams(1000),
    );
  });

  it("refuses another version and another stream's snapshot", () => {
    const snapshot = createStreamStateMachine({ name: "S" }).snapshot();
    expect(() => createStreamStateMachine({ name: "T" }).restore(snapshot)).toThrow(
      /of stream S, not T/,
    );
    const future = encodePayload({ v: 2, kind: "jetstream-stream" });
    expect(() => createStreamStateMachine({ name: "S" }).restore(future)).toThrow(
      /version 2 is not 1/,
    );
  });
});
