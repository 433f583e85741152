import { describe, expect, it } from "vitest";
import {
  encodeHeaderBlock,
  JetStreamError,
  type JetStreamErrorCode,
  messageSize,
  type StreamConfigInput,
  StreamStore,
  validateStreamConfig,
} from "../src/index";

const enc = new TextEncoder();

function storeOf(config: Partial<StreamConfigInput> = {}): StreamStore {
  return new StreamStore(
    validateStreamConfig({ name: "ORDERS", subjects: ["orders.>"], ...config }),
  );
}

function pub(
  store: StreamStore,
  subject: string,
  now: number,
  headers: Record<string, string> = {},
  data = "x",
): ReturnType<StreamStore["store"]> {
  return store.store({ subject, headers: encodeHeaderBlock(headers), data: enc.encode(data) }, now);
}

function refusal(fn: () => unknown): { code: JetStreamErrorCode; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof JetStreamError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a JetStreamError");
}

describe("StreamStore", () => {
  it("assigns sequences from 1 and reports the NATS stream state", () => {
    const store = storeOf();
    expect(store.state()).toEqual({
      messages: 0,
      bytes: 0,
      first_seq: 0,
      first_ts: 0,
      last_seq: 0,
      last_ts: 0,
      num_subjects: 0,
      num_deleted: 0,
    });
    expect(pub(store, "orders.1", 10)).toEqual({ seq: 1, duplicate: false });
    expect(pub(store, "orders.2", 20)).toEqual({ seq: 2, duplicate: false });
    expect(pub(store, "orders.1", 30)).toEqual({ seq: 3, duplicate: false });
    store.deleteMsg(2);
    expect(store.state()).toEqual({
      messages: 2,
      bytes: 2 * messageSize("orders.1", new Uint8Array(0), enc.encode("x")),
      first_seq: 1,
      first_ts: 10,
      last_seq: 3,
      last_ts: 30,
      num_subjects: 1,
      num_deleted: 1,
    });
    expect(store.get(3)?.subject).toBe("orders.1");
    expect(store.get(2)).toBeUndefined();
  });

  it("refuses a subject outside the stream", () => {
    expect(refusal(() => pub(storeOf(), "invoices.1", 1)).code).toBe("SUBJECT_NOT_IN_STREAM");
    expect(refusal(() => pub(storeOf(), "orders.*", 1)).code).toBe("SUBJECT_NOT_IN_STREAM");
  });

  it("answers 'maximum messages exceeded' with discard new at max_msgs", () => {
    const store = storeOf({ max_msgs: 2, discard: "new" });
    pub(store, "orders.1", 1);
    pub(store, "orders.2", 2);
    expect(refusal(() => pub(store, "orders.3", 3))).toEqual({
      code: "MAX_MSGS",
      message: "maximum messages exceeded",
    });
    expect(store.state().last_seq).toBe(2);
  });

  it("answers 'maximum bytes exceeded' with discard new at max_bytes", () => {
    const one = messageSize("orders.1", new Uint8Array(0), enc.encode("x"));
    const store = storeOf({ max_bytes: one * 2, discard: "new" });
    pub(store, "orders.1", 1);
    pub(store, "orders.1", 2);
    expect(refusal(() => pub(store, "orders.1", 3)).message).toBe("maximum bytes exceeded");
  });

  it("drops the oldest messages with discard old", () => {
    const store = storeOf({ max_msgs: 2 });
    for (let i = 1; i <= 5; i++) pub(store, `orders.${i}`, i);
    expect(store.state()).toMatchObject({ messages: 2, first_seq: 4, last_seq: 5 });
  });

  it("keeps a history of one per subject like a KV bucket", () => {
    const store = storeOf({ max_msgs_per_subject: 1 });
    pub(store, "orders.a", 1, {}, "v1");
    pub(store, "orders.b", 2, {}, "w1");
    pub(store, "orders.a", 3, {}, "v2");
    expect(new TextDecoder().decode(store.lastBySubject("orders.a")?.data)).toBe("v2");
    expect(store.lastBySubject("orders.a")?.seq).toBe(3);
    expect(store.get(1)).toBeUndefined();
    expect(store.state()).toMatchObject({ messages: 2, first_seq: 2, num_subjects: 2 });
  });

  it("lets a per-subject replacement through discard new at max_msgs", () => {
    const store = storeOf({ max_msgs: 1, max_msgs_per_subject: 1, discard: "new" });
    pub(store, "orders.a", 1);
    expect(pub(store, "orders.a", 2).seq).toBe(2);
    expect(refusal(() => pub(store, "orders.b", 3)).code).toBe("MAX_MSGS");
  });

  it("returns the original sequence with duplicate for a repeated Nats-Msg-Id", () => {
    const store = storeOf({ duplicate_window: 1000 });
    expect(pub(store, "orders.1", 100, { "Nats-Msg-Id": "abc" })).toEqual({
      seq: 1,
      duplicate: false,
    });
    expect(pub(store, "orders.2", 500, { "Nats-Msg-Id": "abc" })).toEqual({
      seq: 1,
      duplicate: true,
    });
    expect(store.state().messages).toBe(1);
    // Outside the window the id is new again.
    expect(pub(store, "orders.2", 1100, { "Nats-Msg-Id": "abc" })).toEqual({
      seq: 2,
      duplicate: false,
    });
  });

  it("answers 'wrong last sequence' when Nats-Expected-Last-Sequence does not match", () => {
    const store = storeOf();
    pub(store, "orders.1", 1);
    pub(store, "orders.2", 2);
    expect(
      refusal(() => pub(store, "orders.3", 3, { "Nats-Expected-Last-Sequence": "1" })),
    ).toEqual({ code: "WRONG_LAST_SEQUENCE", message: "wrong last sequence: 2" });
    expect(pub(store, "orders.3", 3, { "Nats-Expected-Last-Sequence": "2" }).seq).toBe(3);
  });

  it("checks Nats-Expected-Last-Subject-Sequence against the subject's last message", () => {
    const store = storeOf();
    pub(store, "orders.a", 1);
    pub(store, "orders.b", 2);
    const header = "Nats-Expected-Last-Subject-Sequence";
    expect(refusal(() => pub(store, "orders.a", 3, { [header]: "2" })).message).toBe(
      "wrong last sequence: 1",
    );
    expect(pub(store, "orders.a", 3, { [header]: "1" }).seq).toBe(3);
    expect(pub(store, "orders.new", 4, { [header]: "0" }).seq).toBe(4);
  });

  it("checks Nats-Expected-Stream and Nats-Expected-Last-Msg-Id", () => {
    const store = storeOf();
    pub(store, "orders.a", 1, { "Nats-Msg-Id": "m1" });
    expect(refusal(() => pub(store, "orders.a", 2, { "Nats-Expected-Stream": "OTHER" }))).toEqual({
      code: "STREAM_MISMATCH",
      message: "expected stream does not match",
    });
    expect(refusal(() => pub(store, "orders.a", 2, { "Nats-Expected-Last-Msg-Id": "m0" }))).toEqual(
      { code: "WRONG_LAST_MSG_ID", message: "wrong last msg ID: m1" },
    );
    expect(pub(store, "orders.a", 2, { "Nats-Expected-Last-Msg-Id": "m1" }).seq).toBe(2);
  });

  it("refuses a message above max_msg_size", () => {
    const store = storeOf({ max_msg_size: 4 });
    expect(pub(store, "orders.a", 1, {}, "1234").seq).toBe(1);
    expect(refusal(() => pub(store, "orders.a", 2, {}, "12345"))).toEqual({
      code: "MESSAGE_TOO_LARGE",
      message: "message size exceeds maximum allowed",
    });
  });

  it("expires messages of max_age or older at store and at expire", () => {
    const store = storeOf({ max_age: 100 });
    pub(store, "orders.a", 1000);
    pub(store, "orders.a", 1050);
    expect(store.expire(1099)).toBe(0);
    expect(store.expire(1100)).toBe(1);
    pub(store, "orders.a", 1200);
    expect(store.state()).toMatchObject({ messages: 1, first_seq: 3, first_ts: 1200 });
  });

  it("never lets time go back: a late timestamp is stored at the store's clock", () => {
    const store = storeOf();
    pub(store, "orders.a", 500);
    pub(store, "orders.a", 400);
    expect(store.get(2)?.ts).toBe(500);
  });

  it("purges everything, by subject, up to a sequence, and keeping the newest", () => {
    const store = storeOf();
    for (let i = 1; i <= 6; i++) pub(store, i % 2 === 0 ? "orders.even" : "orders.odd", i);
    expect(store.purge({ filter: "orders.even", keep: 1 })).toBe(2);
    expect([...store.messages()].map((m) => m.seq)).toEqual([1, 3, 5, 6]);
    expect(store.purge({ seq: 5 })).toBe(2);
    expect([...store.messages()].map((m) => m.seq)).toEqual([5, 6]);
    expect(store.purge({})).toBe(2);
    expect(store.state()).toMatchObject({ messages: 0, first_seq: 7, last_seq: 6 });
  });

  it("compacts past the last sequence when purging up to a later sequence", () => {
    const store = storeOf();
    pub(store, "orders.a", 1);
    store.purge({ seq: 10 });
    expect(store.state()).toMatchObject({ first_seq: 10, last_seq: 9 });
    expect(pub(store, "orders.a", 2).seq).toBe(10);
  });

  it("refuses a purge with both seq and keep, or a bad filter", () => {
    expect(refusal(() => storeOf().purge({ seq: 1, keep: 1 }))).toEqual({
      code: "BAD_PURGE",
      message: "can not specify both sequence and keep",
    });
    expect(refusal(() => storeOf().purge({ filter: "a..b" })).code).toBe("BAD_PURGE");
  });

  it("answers 'sequence N not found' to deleting a missing message", () => {
    expect(refusal(() => storeOf().deleteMsg(1))).toEqual({
      code: "SEQUENCE_NOT_FOUND",
      message: "sequence 1 not found",
    });
  });

  it("refuses with discard new when bytes + header + data reach max_bytes, as nats-server", () => {
    // "orders.a" + 5 bytes of data counts 29 bytes; the check adds only the 5 bytes, at >=.
    const store = storeOf({ max_bytes: 34, discard: "new" });
    pub(store, "orders.a", 1, {}, "12345");
    expect(refusal(() => pub(store, "orders.a", 2, {}, "12345")).code).toBe("MAX_BYTES");
    expect(pub(store, "orders.a", 3, {}, "1234").seq).toBe(2);
    // 29 + 28 > 34: the accepted message overshoots and the oldest goes.
    expect(store.state()).toMatchObject({ messages: 1, bytes: 28, first_seq: 2 });
  });

  it("ignores empty expected-* values and never matches a non-numeric expected sequence", () => {
    const store = storeOf();
    pub(store, "orders.a", 1, { "Nats-Msg-Id": "m1" });
    for (const key of [
      "Nats-Expected-Stream",
      "Nats-Expected-Last-Sequence",
      "Nats-Expected-Last-Subject-Sequence",
      "Nats-Expected-Last-Msg-Id",
    ]) {
      expect(pub(store, "orders.b", 2, { [key]: "" }).duplicate).toBe(false);
    }
    for (const bad of ["abc", "-1", "+1", "5x", "18446744073709551615"]) {
      expect(
        refusal(() => pub(store, "orders.a", 3, { "Nats-Expected-Last-Sequence": bad })),
      ).toEqual({
        code: "WRONG_LAST_SEQUENCE",
        message: "wrong last sequence: 5",
      });
    }
  });

  it("checks Nats-Expected-Stream before duplicates, and the subject's sequence first", () => {
    const store = storeOf();
    pub(store, "orders.a", 1, { "Nats-Msg-Id": "m1" });
    pub(store, "orders.b", 2);
    expect(
      refusal(() => pub(store, "orders.a", 3, { "Nats-Msg-Id": "m1", "Nats-Expected-Stream": "X" }))
        .code,
    ).toBe("STREAM_MISMATCH");
    expect(
      refusal(() =>
        pub(store, "orders.a", 4, {
          "Nats-Expected-Last-Subject-Sequence": "9",
          "Nats-Expected-Last-Sequence": "9",
        }),
      ).message,
    ).toBe("wrong last sequence: 1");
  });

  it("purges by compaction: seq 1 is everything, a missing seq is refused, keep counts sequences", () => {
    const store = storeOf();
    for (let i = 1; i <= 6; i++) pub(store, "orders.a", i);
    store.deleteMsg(5);
    expect(refusal(() => store.purge({ seq: 5 })).code).toBe("NO_MESSAGE");
    expect(refusal(() => store.purge({ keep: 2 })).code).toBe("NO_MESSAGE");
    expect(store.purge({ keep: 3 })).toBe(3);
    expect(store.state()).toMatchObject({ messages: 2, first_seq: 4 });
    expect(store.purge({ seq: 1 })).toBe(2);
    expect(store.state()).toMatchObject({ messages: 0, first_seq: 7, last_seq: 6 });
  });

  it("finds the last message of a wildcard subject", () => {
    const store = storeOf();
    pub(store, "orders.a.1", 1);
    pub(store, "orders.b.1", 2);
    pub(store, "orders.a.2", 3);
    expect(store.lastBySubject("orders.a.*")?.seq).toBe(3);
    expect(store.lastBySubject("orders.b.>")?.seq).toBe(2);
    expect(store.lastBySubject("orders.c")).toBeUndefined();
  });
});
