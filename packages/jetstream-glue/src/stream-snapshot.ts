import { decodePayload, encodePayload } from "@raft/codec";
import { isValidSubject, subjectMatches } from "@raft/server-integration";
import { JetStreamError } from "./jetstream-error";
import { type StreamConfig, validateStreamConfig } from "./stream-config";
import { type StoredMessage, StreamStore, type StreamStoreData } from "./stream-store";

/** Version of the snapshot layout; `decodeStreamSnapshot` accepts only this one. */
export const STREAM_SNAPSHOT_VERSION = 1;
const KIND = "jetstream-stream";

function bad(message: string, cause?: unknown): never {
  throw new JetStreamError("BAD_SNAPSHOT", `invalid stream snapshot: ${message}`, { cause });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function count(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    bad(`${what} is not a non-negative integer`);
  }
  return value;
}

function bytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) bad(`${what} is not binary`);
  return value;
}

function decodeMessages(
  value: unknown,
  config: StreamConfig,
  lastSeq: number,
  clock: number,
): StoredMessage[] {
  if (!Array.isArray(value)) bad("messages is not an array");
  const out: StoredMessage[] = [];
  let prevSeq = 0;
  let prevTs = 0;
  for (const item of value as unknown[]) {
    if (!Array.isArray(item) || item.length !== 5) bad("a message is not a 5-element array");
    const [rawSeq, subject, headers, data, rawTs] = item as unknown[];
    const seq = count(rawSeq, "a message sequence");
    const ts = count(rawTs, "a message timestamp");
    if (seq <= prevSeq || seq > lastSeq) bad(`message sequence ${seq} is out of order or range`);
    if (ts < prevTs || ts > clock) bad(`message timestamp ${ts} is out of order or range`);
    if (
      typeof subject !== "string" ||
      !isValidSubject(subject) ||
      !config.subjects.some((p) => subjectMatches(p, subject))
    ) {
      bad("a message subject is not a subject of the stream");
    }
    out.push({ seq, subject, headers: bytes(headers, "headers"), data: bytes(data, "data"), ts });
    prevSeq = seq;
    prevTs = ts;
  }
  return out;
}

function decodeDedupe(value: unknown, lastSeq: number, clock: number): [string, number, number][] {
  if (!Array.isArray(value)) bad("dedupe is not an array");
  const out: [string, number, number][] = [];
  const seen = new Set<string>();
  let prevTs = 0;
  for (const item of value as unknown[]) {
    if (!Array.isArray(item) || item.length !== 3) bad("a dedupe entry is not a 3-element array");
    const [id, seq, ts] = item as unknown[];
    if (typeof id !== "string" || id.length === 0 || seen.has(id)) bad("a dedupe id is bad");
    seen.add(id);
    const s = count(seq, "a dedupe sequence");
    if (s === 0 || s > lastSeq) bad("a dedupe sequence is out of range");
    const t = count(ts, "a dedupe timestamp");
    // Entries are forgotten oldest first, which needs them in time order.
    if (t > clock || t < prevTs) bad("a dedupe timestamp is out of order or range");
    prevTs = t;
    out.push([id, s, t]);
  }
  return out;
}

/**
 * Encodes a store as snapshot bytes: one MessagePack map `{ v, kind, config, clock, last_seq,
 * last_ts, last_msg_id, messages: [seq, subject, headers, data, ts][], dedupe: [id, seq, ts][] }`.
 * A new array owned by the caller.
 */
export function encodeStreamSnapshot(store: StreamStore): Uint8Array {
  const data = store.toData();
  return encodePayload({
    v: STREAM_SNAPSHOT_VERSION,
    kind: KIND,
    config: data.config,
    clock: data.clock,
    last_seq: data.lastSeq,
    last_ts: data.lastTs,
    last_msg_id: data.lastMsgId,
    messages: data.messages.map((m) => [m.seq, m.subject, m.headers, m.data, m.ts]),
    dedupe: data.dedupe,
  });
}

/**
 * Decodes snapshot bytes into a new store, checking the version, the stream name (when
 * `expectedName` is given), the configuration and every message (ascending sequences up to
 * `last_seq`, non-decreasing timestamps up to the clock). Never returns a partially built store.
 *
 * @throws JetStreamError BAD_SNAPSHOT for anything else, with the codec or config error as `cause`.
 */
export function decodeStreamSnapshot(bytes: Uint8Array, expectedName?: string): StreamStore {
  try {
    return decodeChecked(bytes, expectedName);
  } catch (error) {
    // Decoded maps can be anything: a check we did not think of must still be BAD_SNAPSHOT.
    if (error instanceof JetStreamError) throw error;
    bad("unreadable", error);
  }
}

function decodeChecked(bytes: Uint8Array, expectedName: string | undefined): StreamStore {
  let root: unknown;
  try {
    root = decodePayload(bytes);
  } catch (error) {
    bad("not one MessagePack value", error);
  }
  if (!isRecord(root)) bad("not a map");
  if (root["kind"] !== KIND) bad("not a stream snapshot");
  const version = root["v"];
  if (version !== STREAM_SNAPSHOT_VERSION) {
    // Only primitives go into the message: `String()` of a decoded map can throw (a `toString`
    // key that is not a function).
    const shown = typeof version === "number" ? String(version) : typeof version;
    bad(`version ${shown} is not ${STREAM_SNAPSHOT_VERSION}`);
  }
  let config: StreamConfig;
  try {
    config = validateStreamConfig(root["config"] as StreamConfig);
  } catch (error) {
    bad("bad configuration", error);
  }
  if (expectedName !== undefined && config.name !== expectedName) {
    bad(`it is of stream ${config.name}, not ${expectedName}`);
  }
  const clock = count(root["clock"], "clock");
  const lastSeq = count(root["last_seq"], "last_seq");
  const lastTs = count(root["last_ts"], "last_ts");
  if (lastTs > clock) bad("last_ts is after the clock");
  const lastMsgId = root["last_msg_id"];
  if (typeof lastMsgId !== "string") bad("last_msg_id is not a string");
  const data: StreamStoreData = {
    config,
    clock,
    lastSeq,
    lastTs,
    lastMsgId,
    messages: decodeMessages(root["messages"], config, lastSeq, clock),
    dedupe: decodeDedupe(root["dedupe"], lastSeq, clock),
  };
  return StreamStore.fromData(data);
}
