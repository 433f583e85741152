import { isValidPattern, isValidSubject, subjectMatches } from "@raft/server-integration";
import { headerValue, parseHeaderBlock } from "./header-block";
import { JetStreamError } from "./jetstream-error";
import { SeqList } from "./seq-list";
import { messageSize, type StreamConfig } from "./stream-config";

/** One stored message. The byte arrays are owned by the store: treat them as read-only. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  /** The NATS header block as published (empty when none). */
  readonly headers: Uint8Array;
  readonly data: Uint8Array;
  /** Milliseconds, from the command that stored it (never below an earlier message's). */
  readonly ts: number;
}

/** A message to store. */
export interface PublishInput {
  readonly subject: string;
  /** A NATS header block (`NATS/1.0\r\n...`); absent or empty = no headers. */
  readonly headers?: Uint8Array;
  readonly data: Uint8Array;
}

/** What `store` did: the sequence of the message, or of the original for a duplicate. */
export interface StoreResult {
  readonly seq: number;
  /** `true` when the `Nats-Msg-Id` was seen within the window and nothing was stored. */
  readonly duplicate: boolean;
}

/** A purge request (all fields optional: `{}` purges everything). */
export interface PurgeRequest {
  /** Only subjects matching this pattern. */
  readonly filter?: string;
  /** Only messages with a sequence below this one (`[first, seq)`). Not with `keep`. */
  readonly seq?: number;
  /** Keep the newest `keep` (matching) messages. Not with `seq`. */
  readonly keep?: number;
}

/** The stream state in NATS JSON field names. Timestamps in ms, `0` when none. */
export interface StreamState {
  readonly messages: number;
  readonly bytes: number;
  /** Lowest held sequence; `last_seq + 1` when empty after any message, `0` when never used. */
  readonly first_seq: number;
  readonly first_ts: number;
  /** Highest sequence ever assigned (kept when that message is removed). */
  readonly last_seq: number;
  /** Timestamp of the message of `last_seq`. */
  readonly last_ts: number;
  readonly num_subjects: number;
  /** Sequences in `[first_seq, last_seq]` that are not held. */
  readonly num_deleted: number;
}

/** Everything a snapshot holds, as plain data. Produced and consumed by the snapshot codec. */
export interface StreamStoreData {
  readonly config: StreamConfig;
  readonly clock: number;
  readonly lastSeq: number;
  readonly lastTs: number;
  readonly lastMsgId: string;
  /** Held messages, ascending by sequence. */
  readonly messages: readonly StoredMessage[];
  /** De-duplication entries `[msgId, seq, ts]`, oldest first. */
  readonly dedupe: readonly (readonly [string, number, number])[];
}

interface DedupeEntry {
  readonly seq: number;
  readonly ts: number;
}

const EMPTY = new Uint8Array(0);
const EXPECTED_STREAM = "Nats-Expected-Stream";
const EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence";
const EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence";
const EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id";
const MSG_ID = "Nats-Msg-Id";

/**
 * An expected-sequence header as nats-server 2.9.10 reads it: absent or empty = no expectation;
 * anything but plain decimal digits (a sign, spaces, letters) or a number past 2^53 can never equal
 * a sequence (nats-server parses it as the largest uint64), so it gives `NaN` and always mismatches.
 */
function expectedSeq(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  return /^\d+$/.test(value) && Number.isSafeInteger(n) ? n : Number.NaN;
}

/**
 * The messages of one stream and its limits (nats-server's memory store, plus the publish-time
 * checks of a stream). Deterministic: time only comes in as `now` arguments (ms), and the store
 * keeps a clock that never goes back (`max(now, previous now)`), so replicas applying the same
 * calls reach the same state. Single-threaded; not re-entrant.
 *
 * Complexity: `store`, `get`, `lastBySubject` (literal subject) and the per-subject limit are
 * O(1) amortised; removing a message from the middle of one subject is O(messages of that subject).
 */
export class StreamStore {
  /** The validated configuration (immutable in this version). */
  readonly config: StreamConfig;
  readonly #messages = new Map<number, StoredMessage>();
  readonly #subjects = new Map<string, SeqList>();
  readonly #dedupe = new Map<string, DedupeEntry>();
  #first = 1;
  #lastSeq = 0;
  #lastTs = 0;
  #lastMsgId = "";
  #bytes = 0;
  #clock = 0;

  /** An empty stream. `config` must come from `validateStreamConfig`. */
  constructor(config: StreamConfig) {
    this.config = config;
  }

  /** Rebuilds a store from snapshot data (checked by the snapshot codec). */
  static fromData(data: StreamStoreData): StreamStore {
    const store = new StreamStore(data.config);
    for (const msg of data.messages) store.#insert(msg);
    store.#lastSeq = data.lastSeq;
    store.#lastTs = data.lastTs;
    store.#lastMsgId = data.lastMsgId;
    store.#clock = data.clock;
    store.#first = data.messages[0]?.seq ?? data.lastSeq + 1;
    for (const [id, seq, ts] of data.dedupe) store.#dedupe.set(id, { seq, ts });
    return store;
  }

  /** The whole state as plain data (shares the message objects; do not modify them). */
  toData(): StreamStoreData {
    return {
      config: this.config,
      clock: this.#clock,
      lastSeq: this.#lastSeq,
      lastTs: this.#lastTs,
      lastMsgId: this.#lastMsgId,
      messages: [...this.messages()],
      dedupe: [...this.#dedupe].map(([id, e]) => [id, e.seq, e.ts] as const),
    };
  }

  /** The current state (a new object). */
  state(): StreamState {
    const messages = this.#messages.size;
    const first = messages === 0 ? (this.#lastSeq === 0 ? 0 : this.#lastSeq + 1) : this.#first;
    return {
      messages,
      bytes: this.#bytes,
      first_seq: first,
      first_ts: this.#messages.get(this.#first)?.ts ?? 0,
      last_seq: this.#lastSeq,
      last_ts: this.#lastTs,
      num_subjects: this.#subjects.size,
      num_deleted: messages === 0 ? 0 : this.#lastSeq - this.#first + 1 - messages,
    };
  }

  /** The store's clock: the largest `now` seen (ms), 0 before any. */
  clock(): number {
    return this.#clock;
  }

  /** The `Nats-Msg-Id` of the last stored message (`""` when it had none). */
  lastMsgId(): string {
    return this.#lastMsgId;
  }

  /** The held messages, ascending by sequence. */
  *messages(): IterableIterator<StoredMessage> {
    if (this.#messages.size === 0) return;
    for (let seq = this.#first; seq <= this.#lastSeq; seq++) {
      const msg = this.#messages.get(seq);
      if (msg !== undefined) yield msg;
    }
  }

  /** The message of sequence `seq`, or `undefined` when not held. */
  get(seq: number): StoredMessage | undefined {
    return this.#messages.get(seq);
  }

  /**
   * The newest held message whose subject matches `subject` (a literal subject: O(1); a pattern
   * with wildcards: O(subjects)), or `undefined`.
   */
  lastBySubject(subject: string): StoredMessage | undefined {
    const list = this.#subjects.get(subject);
    if (list !== undefined) return this.#messages.get(list.last() ?? 0);
    if (!isValidPattern(subject) || isValidSubject(subject)) return undefined;
    let best = 0;
    for (const [name, seqs] of this.#subjects) {
      const last = seqs.last() ?? 0;
      if (last > best && subjectMatches(subject, name)) best = last;
    }
    return this.#messages.get(best);
  }

  /** Number of held messages on the literal subject `subject`. */
  subjectCount(subject: string): number {
    return this.#subjects.get(subject)?.size ?? 0;
  }

  /**
   * Stores a message at `now` (ms), after expiring messages older than `max_age` and forgetting
   * message ids older than `duplicate_window`. In nats-server 2.9.10's order: the subject must
   * match the stream; `Nats-Expected-Stream`; a `Nats-Msg-Id` seen within the window returns the
   * original sequence as a duplicate; then `Nats-Expected-Last-Subject-Sequence`, `-Last-Sequence`
   * and `-Last-Msg-Id` (an empty value is no expectation; a non-numeric sequence never matches);
   * then `max_msg_size` (headers + data); then, with discard `new`, `max_msgs` (waived when the
   * subject is at `max_msgs_per_subject`, since storing then drops that subject's oldest) and
   * `max_bytes` (refused when `bytes` + headers + data ≥ `max_bytes`; at the per-subject limit
   * only when that subject's oldest is smaller than headers + data). After storing, the
   * per-subject limit drops the subject's oldest, and `max_msgs` and `max_bytes` drop the
   * stream's oldest (with discard `new` too: the check above lets a message overshoot).
   *
   * On a thrown error nothing was stored (expiry at `now` may still have happened).
   *
   * @throws JetStreamError SUBJECT_NOT_IN_STREAM, BAD_HEADERS, STREAM_MISMATCH,
   *   WRONG_LAST_SEQUENCE, WRONG_LAST_MSG_ID, MESSAGE_TOO_LARGE, MAX_MSGS, MAX_BYTES.
   */
  store(input: PublishInput, now: number): StoreResult {
    this.#advance(now);
    const { subject, data } = input;
    const headers = input.headers ?? EMPTY;
    if (!isValidSubject(subject) || !this.config.subjects.some((p) => subjectMatches(p, subject))) {
      throw new JetStreamError(
        "SUBJECT_NOT_IN_STREAM",
        `subject ${JSON.stringify(subject)} is not in stream ${this.config.name}`,
      );
    }
    const block = parseHeaderBlock(headers);
    // nats-server checks the expected stream even before de-duplication.
    const stream = headerValue(block, EXPECTED_STREAM);
    if (stream !== undefined && stream !== "" && stream !== this.config.name) {
      throw new JetStreamError("STREAM_MISMATCH", "expected stream does not match");
    }
    const msgId = headerValue(block, MSG_ID) ?? "";
    if (msgId !== "") {
      const seen = this.#dedupe.get(msgId);
      if (seen !== undefined) return { seq: seen.seq, duplicate: true };
    }
    this.#checkExpected(subject, (key) => headerValue(block, key));
    this.#checkLimits(subject, headers.length + data.length);

    const seq = this.#lastSeq + 1;
    if (this.#messages.size === 0) this.#first = seq;
    this.#insert({ seq, subject, headers, data, ts: this.#clock });
    this.#lastSeq = seq;
    this.#lastTs = this.#clock;
    this.#lastMsgId = msgId;
    if (msgId !== "" && this.config.duplicate_window > 0) {
      this.#dedupe.set(msgId, { seq, ts: this.#clock });
    }
    this.#enforceLimits(subject);
    return { seq, duplicate: false };
  }

  /**
   * Advances the clock to `now` and removes messages whose age is `max_age` or more, and message
   * ids older than `duplicate_window`. Returns how many messages it removed.
   */
  expire(now: number): number {
    return this.#advance(now);
  }

  /**
   * Removes message `seq`.
   *
   * @throws JetStreamError SEQUENCE_NOT_FOUND when the message is not held.
   */
  deleteMsg(seq: number): void {
    if (!this.#remove(seq)) {
      throw new JetStreamError("SEQUENCE_NOT_FOUND", `sequence ${seq} not found`);
    }
  }

  /**
   * Removes messages, as nats-server 2.9.10's memory store does. Returns how many it removed.
   *
   * Without `filter` (or with `>`): `{}`, `seq` 0 or 1 remove everything; `seq` > 1 removes every
   * message below `seq` (a compaction: `seq` must be held when it is at most `last_seq`; above
   * `last_seq` everything goes and `last_seq` becomes `seq - 1`, so the next message gets `seq`);
   * `keep` < messages compacts to `last_seq - keep + 1` (by sequence number, so with gaps fewer
   * than `keep` may stay, and that sequence must be held); `keep` ≥ messages removes nothing.
   * With `filter`: only matching messages; `seq` > 1 those below `seq`, `seq` 0 or 1 all of them;
   * `keep` all but the newest `keep`.
   *
   * @throws JetStreamError BAD_PURGE for `seq` with `keep`, a non-integer or negative `seq` or
   *   `keep`, or a filter that is not a valid subject pattern; NO_MESSAGE when a compaction's
   *   sequence is at most `last_seq` and not held (nothing is removed then).
   */
  purge(request: PurgeRequest): number {
    const { filter, seq, keep } = request;
    if (seq !== undefined && keep !== undefined) {
      throw new JetStreamError("BAD_PURGE", "can not specify both sequence and keep");
    }
    for (const [field, value] of [
      ["seq", seq],
      ["keep", keep],
    ] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
        throw new JetStreamError("BAD_PURGE", `${field} must be a non-negative integer`);
      }
    }
    if (filter !== undefined && !isValidPattern(filter)) {
      throw new JetStreamError("BAD_PURGE", `invalid purge filter ${JSON.stringify(filter)}`);
    }
    const below = seq ?? 0;
    const kept = keep ?? 0;
    if (filter === undefined || filter === ">") {
      if (below > 1) return this.#compact(below);
      if (kept === 0) return this.#compact(this.#lastSeq + 1);
      if (kept >= this.#messages.size) return 0;
      return this.#compact(this.#lastSeq - kept + 1);
    }
    const matching = this.#matching(filter);
    let victims = matching;
    if (below > 1) victims = matching.filter((s) => s < below);
    else if (kept > 0) victims = matching.slice(0, Math.max(0, matching.length - kept));
    for (const victim of victims) this.#remove(victim);
    return victims.length;
  }

  /** Removes every message below `seq` (see `purge`). */
  #compact(seq: number): number {
    if (seq <= this.#lastSeq && !this.#messages.has(seq)) {
      throw new JetStreamError("NO_MESSAGE", "no message found");
    }
    let removed = 0;
    for (const victim of [...this.messages()]) {
      if (victim.seq >= seq) break;
      this.#remove(victim.seq);
      removed++;
    }
    if (seq > this.#lastSeq + 1) this.#lastSeq = seq - 1;
    if (this.#messages.size === 0) this.#first = this.#lastSeq + 1;
    return removed;
  }

  /** Held sequences whose subject matches `filter` (all when absent), ascending. */
  #matching(filter: string | undefined): number[] {
    if (filter === undefined || filter === ">") return [...this.messages()].map((m) => m.seq);
    if (isValidSubject(filter)) return this.#subjects.get(filter)?.toArray() ?? [];
    const out: number[] = [];
    for (const [name, seqs] of this.#subjects) {
      if (subjectMatches(filter, name)) out.push(...seqs.toArray());
    }
    return out.sort((a, b) => a - b);
  }

  #checkExpected(subject: string, header: (key: string) => string | undefined): void {
    // nats-server 2.9.10's order: the subject's last sequence, then the stream's, then the msg id.
    const lastSubjectSeq = expectedSeq(header(EXPECTED_LAST_SUBJECT_SEQ));
    if (lastSubjectSeq !== undefined) {
      const actual = this.#subjects.get(subject)?.last() ?? 0;
      if (lastSubjectSeq !== actual) {
        throw new JetStreamError("WRONG_LAST_SEQUENCE", `wrong last sequence: ${actual}`);
      }
    }
    const lastSeq = expectedSeq(header(EXPECTED_LAST_SEQ));
    if (lastSeq !== undefined && lastSeq !== this.#lastSeq) {
      throw new JetStreamError("WRONG_LAST_SEQUENCE", `wrong last sequence: ${this.#lastSeq}`);
    }
    const lastMsgId = header(EXPECTED_LAST_MSG_ID);
    if (lastMsgId !== undefined && lastMsgId !== "" && lastMsgId !== this.#lastMsgId) {
      throw new JetStreamError("WRONG_LAST_MSG_ID", `wrong last msg ID: ${this.#lastMsgId}`);
    }
  }

  #checkLimits(subject: string, payload: number): void {
    const config = this.config;
    if (config.max_msg_size > 0 && payload > config.max_msg_size) {
      throw new JetStreamError("MESSAGE_TOO_LARGE", "message size exceeds maximum allowed");
    }
    if (config.discard !== "new") return;
    const perSubject = config.max_msgs_per_subject;
    const list = this.#subjects.get(subject);
    // At the per-subject limit, storing drops this subject's oldest, so the totals do not grow
    // by a whole message.
    const replaces = perSubject > 0 && (list?.size ?? 0) >= perSubject;
    if (config.max_msgs > 0 && this.#messages.size >= config.max_msgs && !replaces) {
      throw new JetStreamError("MAX_MSGS", "maximum messages exceeded");
    }
    // nats-server 2.9.10's memory store compares the current bytes plus only the new message's
    // header + data bytes, refusing at `>=`; the message may then overshoot, and the oldest
    // messages go (below). At the per-subject limit it refuses only when the subject's oldest
    // (whole size) is smaller than the new header + data.
    if (config.max_bytes > 0 && this.#bytes + payload >= config.max_bytes) {
      const oldest = replaces ? this.#sizeOf(list?.first()) : undefined;
      if (oldest === undefined || oldest < payload) {
        throw new JetStreamError("MAX_BYTES", "maximum bytes exceeded");
      }
    }
  }

  #enforceLimits(subject: string): void {
    const config = this.config;
    const perSubject = config.max_msgs_per_subject;
    const list = this.#subjects.get(subject);
    while (perSubject > 0 && list !== undefined && list.size > perSubject) {
      this.#remove(list.first() ?? 0);
    }
    // Applies with discard `new` too: the `max_bytes` check there lets a message overshoot.
    while (config.max_msgs > 0 && this.#messages.size > config.max_msgs) {
      this.#remove(this.#first);
    }
    while (config.max_bytes > 0 && this.#bytes > config.max_bytes) {
      this.#remove(this.#first);
    }
  }

  /** Moves the clock forward, expires by age, forgets old message ids. */
  #advance(now: number): number {
    if (now > this.#clock) this.#clock = now;
    const window = this.config.duplicate_window;
    for (const [id, entry] of this.#dedupe) {
      if (entry.ts > this.#clock - window) break;
      this.#dedupe.delete(id);
    }
    const maxAge = this.config.max_age;
    if (maxAge <= 0) return 0;
    let removed = 0;
    // Timestamps never decrease with the sequence, so the expired messages are a prefix.
    for (;;) {
      const first = this.#messages.get(this.#first);
      if (first === undefined || first.ts > this.#clock - maxAge) break;
      this.#remove(first.seq);
      removed++;
    }
    return removed;
  }

  #sizeOf(seq: number | undefined): number | undefined {
    const msg = seq === undefined ? undefined : this.#messages.get(seq);
    return msg === undefined ? undefined : messageSize(msg.subject, msg.headers, msg.data);
  }

  #insert(msg: StoredMessage): void {
    this.#messages.set(msg.seq, msg);
    this.#bytes += messageSize(msg.subject, msg.headers, msg.data);
    let list = this.#subjects.get(msg.subject);
    if (list === undefined) {
      list = new SeqList();
      this.#subjects.set(msg.subject, list);
    }
    list.push(msg.seq);
  }

  #remove(seq: number): boolean {
    const msg = this.#messages.get(seq);
    if (msg === undefined) return false;
    this.#messages.delete(seq);
    this.#bytes -= messageSize(msg.subject, msg.headers, msg.data);
    const list = this.#subjects.get(msg.subject);
    list?.remove(seq);
    if (list?.size === 0) this.#subjects.delete(msg.subject);
    if (seq === this.#first) {
      // Each sequence is skipped at most once over the store's life, so this is amortised O(1).
      if (this.#messages.size === 0) this.#first = this.#lastSeq + 1;
      else while (!this.#messages.has(this.#first)) this.#first++;
    }
    return true;
  }
}
