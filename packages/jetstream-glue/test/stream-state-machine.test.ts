import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createStreamStateMachine,
  encodeHeaderBlock,
  JetStreamError,
  type StreamCommand,
} from "../src/index";
import { propertyParams } from "./arbitraries";

const data = new Uint8Array([1]);

function applyOne(sm: ReturnType<typeof createStreamStateMachine>, command: unknown): unknown {
  return sm.apply([{ index: 1, command: command as StreamCommand }])[0];
}

describe("createStreamStateMachine", () => {
  it("answers publishes with PubAcks and failures with JetStream API errors", () => {
    const sm = createStreamStateMachine({
      name: "KV_b",
      subjects: ["$KV.b.>"],
      max_msgs: 1,
      discard: "new",
    });
    const results = sm.apply([
      { index: 1, command: { op: "publish", subject: "$KV.b.k", data, ts: 1 } },
      {
        index: 2,
        command: {
          op: "publish",
          subject: "$KV.b.k",
          headers: encodeHeaderBlock({ "Nats-Expected-Last-Sequence": "7" }),
          data,
          ts: 2,
        },
      },
      { index: 3, command: { op: "publish", subject: "$KV.b.j", data, ts: 3 } },
      { index: 4, command: { op: "delete", seq: 1 } },
      { index: 5, command: { op: "purge" } },
      { index: 6, command: { op: "expire", ts: 4 } },
    ]);
    expect(results).toEqual([
      { stream: "KV_b", seq: 1 },
      {
        stream: "KV_b",
        error: {
          code: 400,
          err_code: 10071,
          description: "wrong last sequence: 1",
          kind: "WRONG_LAST_SEQUENCE",
        },
      },
      {
        stream: "KV_b",
        error: {
          code: 503,
          err_code: 10077,
          description: "maximum messages exceeded",
          kind: "MAX_MSGS",
        },
      },
      { success: true },
      { success: true, purged: 0 },
      { expired: 0 },
    ]);
  });

  it("answers a duplicate with the original sequence and duplicate: true", () => {
    const sm = createStreamStateMachine({ name: "S", subjects: ["s"] });
    const headers = encodeHeaderBlock({ "Nats-Msg-Id": "once" });
    applyOne(sm, { op: "publish", subject: "s", headers, data, ts: 1 });
    expect(applyOne(sm, { op: "publish", subject: "s", headers, data, ts: 2 })).toEqual({
      stream: "S",
      seq: 1,
      duplicate: true,
    });
  });

  it.each([
    [null],
    ["publish"],
    [{ op: "publish", subject: 1, data, ts: 1 }],
    [{ op: "publish", subject: "s", data: "text", ts: 1 }],
    [{ op: "publish", subject: "s", data, ts: -1 }],
    [{ op: "publish", subject: "s", data, headers: "h", ts: 1 }],
    [{ op: "delete", seq: "1" }],
    [{ op: "purge", keep: 1.5 }],
    [{ op: "purge", filter: 3 }],
    [{ op: "expire" }],
    [{ op: "compact" }],
  ])("answers the malformed command %j with a BAD_COMMAND result", (command) => {
    const sm = createStreamStateMachine({ name: "S", subjects: ["s"] });
    expect(applyOne(sm, command)).toMatchObject({
      stream: "S",
      error: { code: 400, err_code: 10003, kind: "BAD_COMMAND" },
    });
    expect(sm.store.state().last_seq).toBe(0);
  });

  it("never throws for any command value", () => {
    const sm = createStreamStateMachine({ name: "S", subjects: ["s", "t.*"], max_age: 100 });
    const op = fc.constantFrom("publish", "delete", "purge", "expire");
    const shaped = fc.record(
      {
        op,
        subject: fc.oneof(fc.constantFrom("s", "t.x", "t.*", ""), fc.anything()),
        headers: fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.anything()),
        data: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.anything()),
        ts: fc.oneof(fc.nat(), fc.anything()),
        seq: fc.oneof(fc.nat({ max: 5 }), fc.anything()),
        keep: fc.anything(),
        filter: fc.anything(),
      },
      { requiredKeys: ["op"] },
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(shaped, fc.anything()), { maxLength: 10 }), (commands) => {
        const results = sm.apply(
          commands.map((command, i) => ({ index: i + 1, command: command as StreamCommand })),
        );
        expect(results).toHaveLength(commands.length);
      }),
      propertyParams(500),
    );
  });

  it("behaves as the README example says (KV-like compare-and-set)", () => {
    const sm = createStreamStateMachine({
      name: "KV_profiles",
      subjects: ["$KV.profiles.>"],
      max_msgs_per_subject: 1,
    });
    const [ack, conflict] = sm.apply([
      {
        index: 1,
        command: {
          op: "publish",
          subject: "$KV.profiles.ann",
          data: new Uint8Array([1]),
          ts: 1000,
        },
      },
      {
        index: 2,
        command: {
          op: "publish",
          subject: "$KV.profiles.ann",
          headers: encodeHeaderBlock({ "Nats-Expected-Last-Subject-Sequence": "0" }),
          data: new Uint8Array([2]),
          ts: 1001,
        },
      },
    ]);
    expect(ack).toEqual({ stream: "KV_profiles", seq: 1 });
    expect(conflict).toEqual({
      stream: "KV_profiles",
      error: {
        code: 400,
        err_code: 10071,
        description: "wrong last sequence: 1",
        kind: "WRONG_LAST_SEQUENCE",
      },
    });
    expect(sm.store.lastBySubject("$KV.profiles.ann")?.seq).toBe(1);
  });

  it("refuses an invalid configuration with INVALID_CONFIG", () => {
    expect(() => createStreamStateMachine({ name: "bad name" })).toThrow(JetStreamError);
  });
});
