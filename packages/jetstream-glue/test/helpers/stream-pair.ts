// One stream twice: on the real nats-server (through $JS.API and publishes) and in our StreamStore
// (through applyStreamCommand, the state machine's path). Every operation goes to both and comes
// back as the same normalized shape, so a test compares them with one toEqual.
import { type NatsConnection, headers as natsHeaders } from "@nats-io/transport-node";
import {
  applyStreamCommand,
  encodeHeaderBlock,
  StreamStore,
  validateStreamConfig,
} from "../../src/index";

/** The limit fields both sides understand (memory storage; no max_age: time differs). */
export interface PairConfig {
  readonly subjects: readonly string[];
  readonly max_msgs?: number;
  readonly max_bytes?: number;
  readonly max_msgs_per_subject?: number;
  readonly max_msg_size?: number;
  readonly discard?: "old" | "new";
}

/** A publish, delete or purge, the same for both sides. */
export type PairOp =
  | {
      readonly op: "publish";
      readonly subject: string;
      readonly data: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly op: "delete"; readonly seq: number }
  | {
      readonly op: "purge";
      readonly filter?: string;
      readonly seq?: number;
      readonly keep?: number;
    };

/** An operation's outcome, normalized. */
export type Outcome =
  | { readonly seq: number; readonly duplicate: boolean }
  | { readonly success: true; readonly purged?: number }
  | { readonly code: number; readonly err_code: number; readonly description?: string };

/** The comparable part of the stream state (absent fields in NATS JSON are 0). */
export interface ComparableState {
  readonly messages: number;
  readonly bytes: number;
  readonly first_seq: number;
  readonly last_seq: number;
  readonly num_subjects: number;
  readonly num_deleted: number;
}

/** The last message of a subject: its sequence and data, or `null` when there is none. */
export type LastMessage = { readonly seq: number; readonly data: string } | null;

const te = new TextEncoder();
const td = new TextDecoder();
const TIMEOUT = { timeout: 3_000 } as const;

async function api(
  nc: NatsConnection,
  subject: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const payload = body === undefined ? new Uint8Array(0) : te.encode(JSON.stringify(body));
  const reply = await nc.request(subject, payload, TIMEOUT);
  return JSON.parse(td.decode(reply.data)) as Record<string, unknown>;
}

function apiOutcome(body: Record<string, unknown>, keepDescription: boolean): Outcome {
  const error = body["error"] as
    | { code: number; err_code: number; description: string }
    | undefined;
  if (error !== undefined) {
    return keepDescription
      ? { code: error.code, err_code: error.err_code, description: error.description }
      : { code: error.code, err_code: error.err_code };
  }
  if (typeof body["seq"] === "number") {
    return { seq: body["seq"], duplicate: body["duplicate"] === true };
  }
  return body["purged"] === undefined
    ? { success: true }
    : { success: true, purged: body["purged"] as number };
}

/** See the file comment. Create with {@link StreamPair.create}. */
export class StreamPair {
  readonly name: string;
  readonly store: StreamStore;
  readonly #nc: NatsConnection;
  #clock = 1_000;

  private constructor(nc: NatsConnection, name: string, store: StreamStore) {
    this.#nc = nc;
    this.name = name;
    this.store = store;
  }

  /** Creates stream `name` (memory storage) on the server and the same config in a store. */
  static async create(nc: NatsConnection, name: string, config: PairConfig): Promise<StreamPair> {
    const body = await api(nc, `$JS.API.STREAM.CREATE.${name}`, {
      name,
      storage: "memory",
      ...config,
    });
    if (body["error"] !== undefined) {
      throw new Error(`STREAM.CREATE ${name} failed: ${JSON.stringify(body["error"])}`);
    }
    return new StreamPair(nc, name, new StreamStore(validateStreamConfig({ name, ...config })));
  }

  /** Deletes the server's stream. */
  async remove(): Promise<void> {
    const body = await api(this.#nc, `$JS.API.STREAM.DELETE.${this.name}`);
    if (body["error"] !== undefined) {
      throw new Error(`STREAM.DELETE ${this.name} failed: ${JSON.stringify(body["error"])}`);
    }
  }

  /** Applies `op` to both sides: `[server, ours]`. Descriptions are compared for publishes. */
  async apply(op: PairOp): Promise<[Outcome, Outcome]> {
    return [await this.#server(op), this.#ours(op)];
  }

  async #server(op: PairOp): Promise<Outcome> {
    const nc = this.#nc;
    switch (op.op) {
      case "publish": {
        const options: { timeout: number; headers?: ReturnType<typeof natsHeaders> } = {
          ...TIMEOUT,
        };
        if (op.headers !== undefined) {
          const h = natsHeaders();
          for (const [k, v] of Object.entries(op.headers)) h.set(k, v);
          options.headers = h;
        }
        const reply = await nc.request(op.subject, te.encode(op.data), options);
        return apiOutcome(JSON.parse(td.decode(reply.data)) as Record<string, unknown>, true);
      }
      case "delete":
        return apiOutcome(
          await api(nc, `$JS.API.STREAM.MSG.DELETE.${this.name}`, { seq: op.seq }),
          true,
        );
      case "purge": {
        const { op: _, ...request } = op;
        return apiOutcome(await api(nc, `$JS.API.STREAM.PURGE.${this.name}`, request), false);
      }
    }
  }

  #ours(op: PairOp): Outcome {
    // A fixed clock: no max_age here, and the de-duplication window (2 min) is far away.
    this.#clock += 1;
    const command =
      op.op === "publish"
        ? {
            op: "publish",
            subject: op.subject,
            data: te.encode(op.data),
            ts: this.#clock,
            ...(op.headers === undefined ? {} : { headers: encodeHeaderBlock(op.headers) }),
          }
        : op;
    const result = applyStreamCommand(this.store, command) as unknown as Record<string, unknown>;
    const error = result["error"] as
      | { code: number; err_code: number; description: string }
      | undefined;
    if (error !== undefined) {
      return op.op === "purge"
        ? { code: error.code, err_code: error.err_code }
        : { code: error.code, err_code: error.err_code, description: error.description };
    }
    if (typeof result["seq"] === "number") {
      return { seq: result["seq"], duplicate: result["duplicate"] === true };
    }
    return result["purged"] === undefined
      ? { success: true }
      : { success: true, purged: result["purged"] as number };
  }

  /** The state of both sides: `[server, ours]`. */
  async states(): Promise<[ComparableState, ComparableState]> {
    const body = await api(this.#nc, `$JS.API.STREAM.INFO.${this.name}`);
    const s = body["state"] as Record<string, number | undefined>;
    const server = {
      messages: s["messages"] ?? 0,
      bytes: s["bytes"] ?? 0,
      first_seq: s["first_seq"] ?? 0,
      last_seq: s["last_seq"] ?? 0,
      num_subjects: s["num_subjects"] ?? 0,
      num_deleted: s["num_deleted"] ?? 0,
    };
    const o = this.store.state();
    const ours = {
      messages: o.messages,
      bytes: o.bytes,
      first_seq: o.first_seq,
      last_seq: o.last_seq,
      num_subjects: o.num_subjects,
      num_deleted: o.num_deleted,
    };
    return [server, ours];
  }

  /** The last message of literal `subject` on both sides (`MSG.GET` `last_by_subj`). */
  async lastBySubject(subject: string): Promise<[LastMessage, LastMessage]> {
    const body = await api(this.#nc, `$JS.API.STREAM.MSG.GET.${this.name}`, {
      last_by_subj: subject,
    });
    const error = body["error"] as { err_code: number } | undefined;
    if (error !== undefined && error.err_code !== 10037) {
      throw new Error(`MSG.GET ${subject}: ${JSON.stringify(error)}`);
    }
    const message = body["message"] as { seq: number; data?: string } | undefined;
    const server =
      message === undefined
        ? null
        : { seq: message.seq, data: Buffer.from(message.data ?? "", "base64").toString("utf8") };
    const mine = this.store.lastBySubject(subject);
    return [server, mine === undefined ? null : { seq: mine.seq, data: td.decode(mine.data) }];
  }
}
