import { isValidPattern } from "@raft/server-integration";
import { JetStreamError } from "./jetstream-error";

/** What to do when a limit is reached: drop the oldest messages, or refuse the new one. */
export type DiscardPolicy = "old" | "new";

/** Retention policy. Only `limits` exists in this version (`interest`, `workqueue` later). */
export type RetentionPolicy = "limits";

/**
 * A stream configuration as a user writes it (NATS JSON field names). Every field but `name` is
 * optional; {@link validateStreamConfig} fills the NATS defaults.
 *
 * Units differ from the NATS JSON API on purpose: `max_age` and `duplicate_window` are in
 * **milliseconds** (not nanoseconds), because message timestamps are JavaScript numbers of
 * milliseconds and nanoseconds since the epoch do not fit a double exactly. The API layer converts.
 */
export interface StreamConfigInput {
  /** Stream name: non-empty, at most 255 characters, no whitespace, `.`, `*`, `>`, `/` or `\`. */
  readonly name: string;
  /** Subjects (patterns with `*` and a final `>`) the stream stores. Default `[name]`. */
  readonly subjects?: readonly string[];
  /** Most messages kept; `-1` (default) or `0` = unlimited. */
  readonly max_msgs?: number;
  /** Most bytes kept (see {@link messageSize}); `-1` (default) or `0` = unlimited. */
  readonly max_bytes?: number;
  /** Oldest message age kept, in ms; `0` (default) = unlimited. */
  readonly max_age?: number;
  /** Most messages kept per subject; `-1` (default) or `0` = unlimited. */
  readonly max_msgs_per_subject?: number;
  /** Largest message accepted, header + data bytes; `-1` (default) or `0` = unlimited. */
  readonly max_msg_size?: number;
  /** Default `"old"`. */
  readonly discard?: DiscardPolicy;
  /**
   * How long a `Nats-Msg-Id` is remembered for de-duplication, in ms; `0` = off. Default two
   * minutes, or `max_age` when that is set and shorter (as NATS does).
   */
  readonly duplicate_window?: number;
  /** Default `"limits"`, the only one supported. */
  readonly retention?: RetentionPolicy;
}

/** A validated configuration with every default applied; limits are `-1` when unlimited. */
export interface StreamConfig {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly max_msgs: number;
  readonly max_bytes: number;
  readonly max_age: number;
  readonly max_msgs_per_subject: number;
  readonly max_msg_size: number;
  readonly discard: DiscardPolicy;
  readonly duplicate_window: number;
  readonly retention: RetentionPolicy;
}

/** NATS's default de-duplication window: two minutes, here in ms. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

const BAD_NAME = /[\s.*>/\\]/;
const MAX_NAME_LENGTH = 255;

function fail(message: string): never {
  throw new JetStreamError("INVALID_CONFIG", message);
}

/**
 * A bad value as it goes into an error message. Never throws: the input is arbitrary decoded data,
 * where `String()` and `JSON.stringify` can throw (a map whose `toString` is not a function, a
 * bigint).
 */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return value === null ? "null" : typeof value;
}

function limit(value: unknown, field: string): number {
  if (value === undefined) return -1;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < -1) {
    fail(`${field} must be an integer of -1 or more, got ${show(value)}`);
  }
  // NATS stores 0 as "unlimited" too and reports it as -1.
  return value === 0 ? -1 : value;
}

function duration(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(`${field} must be a non-negative integer of milliseconds, got ${show(value)}`);
  }
  return value;
}

function subjectsOf(input: StreamConfigInput): readonly string[] {
  const subjects = input.subjects;
  if (subjects === undefined) return [input.name];
  if (!Array.isArray(subjects)) fail("subjects must be an array of strings");
  if (subjects.length === 0) return [input.name];
  const seen = new Set<string>();
  for (const subject of subjects as unknown[]) {
    if (typeof subject !== "string" || !isValidPattern(subject)) {
      fail(`invalid subject ${show(subject)}`);
    }
    if (seen.has(subject)) fail(`duplicate subject ${JSON.stringify(subject)}`);
    seen.add(subject);
  }
  return [...seen];
}

/**
 * Checks a configuration and applies the NATS defaults (limits `-1`, discard `old`, retention
 * `limits`, subjects `[name]`, a two-minute de-duplication window capped by `max_age`).
 * Pure; the input is not modified.
 *
 * @throws JetStreamError INVALID_CONFIG naming the first bad field (also for a
 *   `duplicate_window` larger than a non-zero `max_age`, and for a retention other than `limits`).
 */
export function validateStreamConfig(input: StreamConfigInput): StreamConfig {
  if (typeof input !== "object" || input === null) fail("config must be an object");
  const name: unknown = input.name;
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    fail("name must be a non-empty string of at most 255 characters");
  }
  if (BAD_NAME.test(name)) fail(`invalid stream name ${JSON.stringify(name)}`);
  const discard: unknown = input.discard ?? "old";
  if (discard !== "old" && discard !== "new") fail(`discard must be "old" or "new"`);
  const retention: unknown = input.retention ?? "limits";
  if (retention !== "limits") fail(`retention ${show(retention)} is not supported`);
  const maxAge = duration(input.max_age, "max_age") ?? 0;
  let window = duration(input.duplicate_window, "duplicate_window");
  if (window === undefined) {
    window =
      maxAge > 0 && maxAge < DEFAULT_DUPLICATE_WINDOW_MS ? maxAge : DEFAULT_DUPLICATE_WINDOW_MS;
  } else if (maxAge > 0 && window > maxAge) {
    fail("duplicate_window can not be larger than max_age");
  }
  return {
    name,
    subjects: subjectsOf(input),
    max_msgs: limit(input.max_msgs, "max_msgs"),
    max_bytes: limit(input.max_bytes, "max_bytes"),
    max_age: maxAge,
    max_msgs_per_subject: limit(input.max_msgs_per_subject, "max_msgs_per_subject"),
    max_msg_size: limit(input.max_msg_size, "max_msg_size"),
    discard,
    duplicate_window: window,
    retention,
  };
}

/**
 * The size a message counts for in `bytes` and `max_bytes`: subject length in
 * UTF-8 bytes + header bytes + data bytes + 16, the accounting of nats-server's memory store.
 */
export function messageSize(subject: string, headers: Uint8Array, data: Uint8Array): number {
  return utf8Length(subject) + headers.length + data.length + 16;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one 4-byte code point.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
