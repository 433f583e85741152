import type { AppliedCommand, StateMachine } from "@raft/server-integration";
import { type ApiError, JetStreamError } from "./jetstream-error";
import { type StreamConfigInput, validateStreamConfig } from "./stream-config";
import { decodeStreamSnapshot, encodeStreamSnapshot } from "./stream-snapshot";
import { StreamStore } from "./stream-store";

/** Store a message; `ts` is the leader's clock at proposal (ms). */
export interface PublishCommand {
  readonly op: "publish";
  readonly subject: string;
  /** A NATS header block; absent or empty = none. */
  readonly headers?: Uint8Array;
  readonly data: Uint8Array;
  readonly ts: number;
}

/** Remove one message. */
export interface DeleteCommand {
  readonly op: "delete";
  readonly seq: number;
}

/** Purge messages (see `StreamStore.purge`). */
export interface PurgeCommand {
  readonly op: "purge";
  readonly filter?: string;
  readonly seq?: number;
  readonly keep?: number;
}

/** Advance the stream clock to `ts` (ms), expiring by `max_age`. */
export interface ExpireCommand {
  readonly op: "expire";
  readonly ts: number;
}

/** A replicated command of a stream group. MessagePack-encodable. */
export type StreamCommand = PublishCommand | DeleteCommand | PurgeCommand | ExpireCommand;

/** A stored (or de-duplicated) message: the JetStream PubAck. */
export interface PubAck {
  readonly stream: string;
  readonly seq: number;
  /** Present (and `true`) only for a duplicate. */
  readonly duplicate?: true;
}

/** A command that failed: the JetStream API error, and which of our codes it is. */
export interface StreamCommandError {
  readonly stream: string;
  readonly error: ApiError & { readonly kind: JetStreamError["code"] };
}

/** The result of `delete` and `purge` (`purged` for purge only). */
export interface StreamSuccess {
  readonly success: true;
  readonly purged?: number;
}

/** The result of `expire`. */
export interface ExpireResult {
  readonly expired: number;
}

/** The result of one applied {@link StreamCommand}. */
export type StreamCommandResult = PubAck | StreamCommandError | StreamSuccess | ExpireResult;

/** A stream's state machine; `store` is readable between applies (for reads and tests). */
export interface StreamStateMachine extends StateMachine<StreamCommand, StreamCommandResult> {
  /** The current store. Replaced by `restore`, so do not keep it across applies. */
  readonly store: StreamStore;
  /** Synchronous: one result per command, in order; never throws for a bad command. */
  apply(commands: readonly AppliedCommand<StreamCommand>[]): StreamCommandResult[];
  /** Synchronous: {@link encodeStreamSnapshot} of the current store. */
  snapshot(): Uint8Array;
  /** Synchronous; throws `BAD_SNAPSHOT` and keeps the current store on bad bytes. */
  restore(data: Uint8Array): void;
}

function int(value: unknown): number | undefined {
  // MessagePack may hand a large integer back as a bigint.
  const n = typeof value === "bigint" ? Number(value) : value;
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function optionalInt(record: Record<string, unknown>, key: string): number | undefined | null {
  if (record[key] === undefined || record[key] === null) return undefined;
  return int(record[key]) ?? null;
}

function badCommand(what: string): never {
  throw new JetStreamError("BAD_COMMAND", `bad stream command: ${what}`);
}

function applyOne(store: StreamStore, command: unknown): StreamCommandResult {
  if (typeof command !== "object" || command === null) badCommand("not an object");
  const c = command as Record<string, unknown>;
  switch (c["op"]) {
    case "publish": {
      const { subject, headers, data } = c;
      const ts = int(c["ts"]);
      if (typeof subject !== "string") badCommand("publish subject is not a string");
      if (!(data instanceof Uint8Array)) badCommand("publish data is not binary");
      if (headers !== undefined && headers !== null && !(headers instanceof Uint8Array)) {
        badCommand("publish headers are not binary");
      }
      if (ts === undefined) badCommand("publish ts is not a non-negative integer");
      const input = headers instanceof Uint8Array ? { subject, headers, data } : { subject, data };
      const { seq, duplicate } = store.store(input, ts);
      const stream = store.config.name;
      return duplicate ? { stream, seq, duplicate: true } : { stream, seq };
    }
    case "delete": {
      const seq = int(c["seq"]);
      if (seq === undefined) badCommand("delete seq is not a non-negative integer");
      store.deleteMsg(seq);
      return { success: true };
    }
    case "purge": {
      const filter = c["filter"];
      const seq = optionalInt(c, "seq");
      const keep = optionalInt(c, "keep");
      if (filter !== undefined && filter !== null && typeof filter !== "string") {
        badCommand("purge filter is not a string");
      }
      if (seq === null || keep === null) badCommand("purge seq/keep is not an integer");
      const purged = store.purge({
        ...(typeof filter === "string" ? { filter } : {}),
        ...(seq === undefined ? {} : { seq }),
        ...(keep === undefined ? {} : { keep }),
      });
      return { success: true, purged };
    }
    case "expire": {
      const ts = int(c["ts"]);
      if (ts === undefined) badCommand("expire ts is not a non-negative integer");
      return { expired: store.expire(ts) };
    }
    default:
      // Only a string op goes into the message: JSON.stringify of a decoded bigint throws.
      return badCommand(
        typeof c["op"] === "string"
          ? `unknown op ${JSON.stringify(c["op"])}`
          : `op is a ${typeof c["op"]}, not a string`,
      );
  }
}

/**
 * Applies one command to `store`, returning a result for every outcome: a failed command (a
 * publish refused by a limit or an expected-* header, a malformed command from the log) is a
 * {@link StreamCommandError} result, as NATS answers an error to the publisher, because throwing
 * would stop the Raft group. Only a bug (a non-`JetStreamError`) propagates.
 */
export function applyStreamCommand(store: StreamStore, command: unknown): StreamCommandResult {
  try {
    return applyOne(store, command);
  } catch (error) {
    if (!(error instanceof JetStreamError)) throw error;
    return { stream: store.config.name, error: { ...error.toApiError(), kind: error.code } };
  }
}

/**
 * A Raft {@link StateMachine} for one stream with configuration `config` (validated here).
 * Commands carry their time, so every replica applies them identically. `snapshot()` is
 * {@link encodeStreamSnapshot}; `restore()` accepts only a snapshot of a stream with the same name
 * and replaces the whole store (configuration included: the snapshot's wins), leaving it unchanged
 * on error.
 *
 * @throws JetStreamError INVALID_CONFIG (from the factory); BAD_SNAPSHOT (from `restore`).
 */
export function createStreamStateMachine(config: StreamConfigInput): StreamStateMachine {
  const valid = validateStreamConfig(config);
  let store = new StreamStore(valid);
  return {
    get store(): StreamStore {
      return store;
    },
    apply(commands: readonly AppliedCommand<StreamCommand>[]): StreamCommandResult[] {
      return commands.map((c) => applyStreamCommand(store, c.command));
    },
    snapshot(): Uint8Array {
      return encodeStreamSnapshot(store);
    },
    restore(data: Uint8Array): void {
      store = decodeStreamSnapshot(data, valid.name);
    },
  };
}
