// A deliberately simple reference for the stream store: arrays and linear scans, no indexes, no
// incremental counters. Property tests compare the real store against it command by command.
import {
  headerValue,
  JetStreamError,
  type JetStreamErrorCode,
  parseHeaderBlock,
  type StreamCommandResult,
  type StreamConfig,
  type StreamState,
} from "../src/index";

interface ModelMessage {
  seq: number;
  subject: string;
  headers: Uint8Array;
  data: Uint8Array;
  ts: number;
}

function tokensMatch(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

function validSubject(subject: string): boolean {
  return subject.length > 0 && subject.split(".").every((t) => t.length > 0 && !/[\s*>]/.test(t));
}

function size(m: { subject: string; headers: Uint8Array; data: Uint8Array }): number {
  return new TextEncoder().encode(m.subject).length + m.headers.length + m.data.length + 16;
}

class Refusal {
  readonly code: JetStreamErrorCode;
  readonly description: string;
  constructor(code: JetStreamErrorCode, description: string) {
    this.code = code;
    this.description = description;
  }
}

/** The naive model of one stream. */
export class NaiveStream {
  readonly config: StreamConfig;
  msgs: ModelMessage[] = [];
  lastSeq = 0;
  lastTs = 0;
  lastMsgId = "";
  clock = 0;
  dedupe: { id: string; seq: number; ts: number }[] = [];

  constructor(config: StreamConfig) {
    this.config = config;
  }

  state(): StreamState {
    const first = this.msgs[0];
    const subjects = new Set(this.msgs.map((m) => m.subject));
    return {
      messages: this.msgs.length,
      bytes: this.msgs.reduce((sum, m) => sum + size(m), 0),
      first_seq: first?.seq ?? (this.lastSeq === 0 ? 0 : this.lastSeq + 1),
      first_ts: first?.ts ?? 0,
      last_seq: this.lastSeq,
      last_ts: this.lastTs,
      num_subjects: subjects.size,
      num_deleted: first === undefined ? 0 : this.lastSeq - first.seq + 1 - this.msgs.length,
    };
  }

  lastBySubject(subject: string): ModelMessage | undefined {
    return this.msgs.filter((m) => m.subject === subject).at(-1);
  }

  apply(command: Record<string, unknown>): StreamCommandResult {
    try {
      return this.#apply(command);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      const api = new JetStreamError(error.code, error.description).toApiError();
      return { stream: this.config.name, error: { ...api, kind: error.code } };
    }
  }

  #advance(now: number): number {
    this.clock = Math.max(this.clock, now);
    this.dedupe = this.dedupe.filter((d) => d.ts > this.clock - this.config.duplicate_window);
    if (this.config.max_age <= 0) return 0;
    const before = this.msgs.length;
    this.msgs = this.msgs.filter((m) => m.ts > this.clock - this.config.max_age);
    return before - this.msgs.length;
  }

  #apply(c: Record<string, unknown>): StreamCommandResult {
    const name = this.config.name;
    switch (c["op"]) {
      case "publish":
        return this.#publish(
          c["subject"] as string,
          (c["headers"] as Uint8Array | undefined) ?? new Uint8Array(0),
          c["data"] as Uint8Array,
          c["ts"] as number,
        );
      case "delete": {
        const seq = c["seq"] as number;
        const index = this.msgs.findIndex((m) => m.seq === seq);
        if (index < 0) throw new Refusal("SEQUENCE_NOT_FOUND", `sequence ${seq} not found`);
        this.msgs.splice(index, 1);
        return { success: true };
      }
      case "purge":
        return { success: true, purged: this.#purge(c) };
      case "expire":
        return { expired: this.#advance(c["ts"] as number) };
      default:
        throw new Error(`model: unknown op for ${name}`);
    }
  }

  #purge(c: Record<string, unknown>): number {
    const filter = c["filter"] as string | undefined;
    const seq = c["seq"] as number | undefined;
    const keep = c["keep"] as number | undefined;
    if (seq !== undefined && keep !== undefined) {
      throw new Refusal("BAD_PURGE", "can not specify both sequence and keep");
    }
    const below = seq ?? 0;
    const kept = keep ?? 0;
    if (filter === undefined || filter === ">") {
      // nats-server 2.9.10: everything, or a compaction to a sequence.
      let to = this.lastSeq + 1;
      if (below > 1) to = below;
      else if (kept > 0) {
        if (kept >= this.msgs.length) return 0;
        to = this.lastSeq - kept + 1;
      }
      if (to <= this.lastSeq && !this.msgs.some((m) => m.seq === to)) {
        throw new Refusal("NO_MESSAGE", "no message found");
      }
      const before = this.msgs.length;
      this.msgs = this.msgs.filter((m) => m.seq >= to);
      if (to > this.lastSeq + 1) this.lastSeq = to - 1;
      return before - this.msgs.length;
    }
    const matching = this.msgs.filter((m) => tokensMatch(filter, m.subject));
    let victims = matching;
    if (below > 1) victims = matching.filter((m) => m.seq < below);
    else if (kept > 0) victims = matching.slice(0, Math.max(0, matching.length - kept));
    const gone = new Set(victims.map((m) => m.seq));
    this.msgs = this.msgs.filter((m) => !gone.has(m.seq));
    return victims.length;
  }

  #publish(
    subject: string,
    headers: Uint8Array,
    data: Uint8Array,
    ts: number,
  ): StreamCommandResult {
    const name = this.config.name;
    this.#advance(ts);
    if (!validSubject(subject) || !this.config.subjects.some((p) => tokensMatch(p, subject))) {
      throw new Refusal("SUBJECT_NOT_IN_STREAM", `subject "${subject}" is not in stream ${name}`);
    }
    let block: ReturnType<typeof parseHeaderBlock>;
    try {
      block = parseHeaderBlock(headers);
    } catch (error) {
      throw new Refusal("BAD_HEADERS", (error as Error).message);
    }
    const h = (key: string): string | undefined => headerValue(block, key);
    const expStream = h("Nats-Expected-Stream");
    if (expStream !== undefined && expStream !== "" && expStream !== name) {
      throw new Refusal("STREAM_MISMATCH", "expected stream does not match");
    }
    const msgId = h("Nats-Msg-Id") ?? "";
    const dup = this.dedupe.find((d) => d.id === msgId);
    if (msgId !== "" && dup !== undefined) return { stream: name, seq: dup.seq, duplicate: true };
    // Empty: no expectation; anything but digits never matches.
    const seqOf = (v: string): number => (/^[0-9]+$/.test(v) ? Number(v) : -1);
    const expSubj = h("Nats-Expected-Last-Subject-Sequence");
    const subjLast = this.lastBySubject(subject)?.seq ?? 0;
    if (expSubj !== undefined && expSubj !== "" && seqOf(expSubj) !== subjLast) {
      throw new Refusal("WRONG_LAST_SEQUENCE", `wrong last sequence: ${subjLast}`);
    }
    const expLast = h("Nats-Expected-Last-Sequence");
    if (expLast !== undefined && expLast !== "" && seqOf(expLast) !== this.lastSeq) {
      throw new Refusal("WRONG_LAST_SEQUENCE", `wrong last sequence: ${this.lastSeq}`);
    }
    const expId = h("Nats-Expected-Last-Msg-Id");
    if (expId !== undefined && expId !== "" && expId !== this.lastMsgId) {
      throw new Refusal("WRONG_LAST_MSG_ID", `wrong last msg ID: ${this.lastMsgId}`);
    }
    const cfg = this.config;
    if (cfg.max_msg_size > 0 && headers.length + data.length > cfg.max_msg_size) {
      throw new Refusal("MESSAGE_TOO_LARGE", "message size exceeds maximum allowed");
    }
    const msg: ModelMessage = { seq: this.lastSeq + 1, subject, headers, data, ts: this.clock };
    const sameSubject = this.msgs.filter((m) => m.subject === subject);
    if (cfg.discard === "new") {
      const replaces =
        cfg.max_msgs_per_subject > 0 && sameSubject.length >= cfg.max_msgs_per_subject;
      if (cfg.max_msgs > 0 && this.msgs.length >= cfg.max_msgs && !replaces) {
        throw new Refusal("MAX_MSGS", "maximum messages exceeded");
      }
      const total = this.msgs.reduce((sum, m) => sum + size(m), 0);
      const payload = headers.length + data.length;
      const oldest = replaces ? sameSubject[0] : undefined;
      if (
        cfg.max_bytes > 0 &&
        total + payload >= cfg.max_bytes &&
        (oldest === undefined || size(oldest) < payload)
      ) {
        throw new Refusal("MAX_BYTES", "maximum bytes exceeded");
      }
    }
    this.msgs.push(msg);
    this.lastSeq = msg.seq;
    this.lastTs = msg.ts;
    this.lastMsgId = msgId;
    if (msgId !== "" && cfg.duplicate_window > 0) {
      this.dedupe.push({ id: msgId, seq: msg.seq, ts: msg.ts });
    }
    if (cfg.max_msgs_per_subject > 0) {
      const mine = this.msgs.filter((m) => m.subject === subject);
      const drop = new Set(mine.slice(0, -cfg.max_msgs_per_subject).map((m) => m.seq));
      this.msgs = this.msgs.filter((m) => !drop.has(m.seq));
    }
    // With either discard policy (discard new may overshoot max_bytes by one message).
    if (cfg.max_msgs > 0) this.msgs = this.msgs.slice(Math.max(0, this.msgs.length - cfg.max_msgs));
    while (cfg.max_bytes > 0 && this.msgs.reduce((s, m) => s + size(m), 0) > cfg.max_bytes) {
      this.msgs.shift();
    }
    return { stream: name, seq: msg.seq };
  }
}
