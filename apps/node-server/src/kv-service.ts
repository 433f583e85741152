import type { IncomingMessage } from "node:http";
import { request } from "node:http";
import { ServerError } from "@raft/server-integration";
import { z } from "zod";
import { formatEndpoint } from "./config";
import type { NodeContext } from "./http/node-context";
import type { KvCommand } from "./kv-state-machine";

/**
 * The KV operations of the `kv` group, shared by the HTTP routes and the NATS service so that both
 * validate, forward and map errors the same way. Results are transport-neutral {@link KvOutcome}s;
 * each front end renders them (HTTP status and JSON; NATS status header and JSON).
 */

/** Header marking a request forwarded by a follower, so that it is never forwarded twice. */
export const FORWARDED_HEADER = "x-raft-forwarded-by";

/** What the KV service needs from the node. */
export type KvServiceContext = Pick<NodeContext, "config" | "kv" | "store" | "logger">;

/** The answer to a KV operation. */
export type KvOutcome =
  | {
      readonly kind: "value";
      readonly value: Uint8Array;
      readonly revision: number;
      /** The leader that answered, when this node forwarded the read. */
      readonly via: string | undefined;
    }
  | {
      readonly kind: "written";
      readonly result: {
        readonly key: string;
        readonly revision: number;
        readonly existed: boolean;
        readonly leader: string;
      };
      readonly via: string | undefined;
    }
  | KvFailure;

/** A KV operation that failed; `status` is the HTTP status code (NATS replies carry it too). */
export interface KvFailure {
  readonly kind: "error";
  readonly status: number;
  /** SCREAMING_SNAKE code, e.g. `NOT_FOUND`, `NOT_LEADER`, `TIMEOUT`. */
  readonly error: string;
  readonly message: string;
  /** Extra JSON fields (`leader`, `outcome`). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Seconds after which a retry may succeed (HTTP `retry-after`). */
  readonly retryAfterS: number | undefined;
  readonly via: string | undefined;
}

/**
 * Keys: NATS KV's key characters without `/` (which would split the URL path), 1–256 of them, not
 * starting or ending with a dot.
 */
export const keySchema: z.ZodString = z
  .string()
  .min(1, "key must not be empty")
  .max(256, "key must be at most 256 characters")
  .regex(/^[-_=.A-Za-z0-9]+$/, "key may contain only letters, digits and - _ = .")
  .refine((k) => !k.startsWith(".") && !k.endsWith("."), "key must not start or end with '.'");

/** Validates a key; returns the reason it is invalid, or `undefined` when it is valid. */
export function keyError(key: string): string | undefined {
  const r = keySchema.safeParse(key);
  return r.success ? undefined : r.error.issues.map((i) => i.message).join("; ");
}

/** A failure outcome (for front ends that reject a request before it reaches the service). */
export function kvFailure(
  status: number,
  error: string,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
  retryAfterS?: number,
): KvFailure {
  return { kind: "error", status, error, message, details, retryAfterS, via: undefined };
}

/**
 * Reads `key`. Plain reads are local and not linearizable (a follower may lag the leader, and a
 * deposed leader may not know it yet). A linearizable read passes the leader's read barrier (a
 * quorum confirms it still leads, then it has applied everything committed when the read
 * began); a follower forwards it to the leader once (`forwarded` marks a request that was
 * forwarded to us, which is never forwarded again).
 */
export async function kvGet(
  ctx: KvServiceContext,
  key: string,
  options: { readonly linearizable: boolean; readonly forwarded: boolean },
): Promise<KvOutcome> {
  const invalid = keyError(key);
  if (invalid !== undefined) return kvFailure(400, "INVALID_KEY", invalid);
  if (options.linearizable) {
    if (ctx.kv.state() !== "leader") {
      return forwardToLeader(ctx, "GET", `/kv/${encodeURIComponent(key)}?linearizable`, options);
    }
    try {
      await ctx.kv.readBarrier();
    } catch (error) {
      return proposeFailure(ctx, error);
    }
  }
  const entry = ctx.store.get(key);
  if (entry === undefined) {
    return kvFailure(404, "NOT_FOUND", `key ${key} not found on ${ctx.config.serverName}`);
  }
  return { kind: "value", value: entry.value, revision: entry.revision, via: undefined };
}

/**
 * Puts or deletes a key. On the leader: proposes the command and answers once it is committed
 * (durable on a quorum) and applied here. On a follower: forwards it over HTTP to the leader's
 * monitoring port (known from config) once and relays the answer; without a known leader (or
 * its address) the outcome is 503 `NO_LEADER`.
 */
export async function kvWrite(
  ctx: KvServiceContext,
  command: KvCommand,
  options: { readonly forwarded: boolean },
): Promise<KvOutcome> {
  const invalid = keyError(command.key);
  if (invalid !== undefined) return kvFailure(400, "INVALID_KEY", invalid);
  if (command.op === "put" && command.value.length > ctx.config.kv.maxValueBytes) {
    return kvFailure(
      413,
      "VALUE_TOO_LARGE",
      `value exceeds kv.maxValueBytes (${ctx.config.kv.maxValueBytes} bytes)`,
    );
  }
  // A leader whose election no-op is not applied yet still takes the proposal (it is queued).
  if (!ctx.kv.isLeader() && ctx.kv.state() !== "leader") {
    const path = `/kv/${encodeURIComponent(command.key)}`;
    const method = command.op === "put" ? "PUT" : "DELETE";
    const body = command.op === "put" ? command.value : new Uint8Array(0);
    return forwardToLeader(ctx, method, path, options, body);
  }
  try {
    const result = await ctx.kv.propose(command);
    if (!result.ok) return kvFailure(500, "APPLY_FAILED", result.error);
    return {
      kind: "written",
      result: {
        key: command.key,
        revision: result.revision,
        existed: result.existed,
        leader: ctx.config.serverName,
      },
      via: undefined,
    };
  } catch (error) {
    return proposeFailure(ctx, error);
  }
}

function proposeFailure(ctx: KvServiceContext, error: unknown): KvFailure {
  if (error instanceof ServerError) {
    switch (error.code) {
      case "NOT_LEADER":
        // Lost leadership before the command applied: it may still commit later.
        return kvFailure(503, "NOT_LEADER", error.message, {
          leader: error.leaderServerName ?? null,
          outcome: "unknown",
        });
      case "TIMEOUT":
        return kvFailure(504, "TIMEOUT", error.message, { outcome: "unknown" });
      case "OVERLOADED":
        return kvFailure(503, "OVERLOADED", error.message, {}, 1);
      case "CLOSED":
        return kvFailure(503, "CLOSED", error.message);
      case "INVALID_ARGUMENT":
        return kvFailure(400, "INVALID_ARGUMENT", error.message);
      case "NOT_BOOTSTRAPPED":
      case "ALREADY_EXISTS":
      case "STORAGE":
      case "STATE_MACHINE":
      case "MEMBERSHIP":
        break;
      default: {
        const never: never = error.code;
        void never;
      }
    }
  }
  ctx.logger.error({ err: error }, "kv operation failed");
  return kvFailure(500, "INTERNAL", error instanceof Error ? error.message : String(error));
}

/** Largest forwarded answer read back (a value plus its JSON envelope fits well below this). */
const FORWARD_BODY_SLACK = 64 * 1024;

async function forwardToLeader(
  ctx: KvServiceContext,
  method: "GET" | "PUT" | "DELETE",
  path: string,
  options: { readonly forwarded: boolean },
  body: Uint8Array = new Uint8Array(0),
): Promise<KvOutcome> {
  const status = ctx.kv.status();
  const leaderName = status.leaderServerName;
  if (options.forwarded) {
    // Forwarded to us but we do not lead (any more): never forward again, so no loop can form.
    return kvFailure(503, "NOT_LEADER", `${ctx.config.serverName} is not the leader of kv`, {
      leader: leaderName ?? null,
    });
  }
  const peer = ctx.config.peers.find((p) => p.name === leaderName);
  if (status.leaderId === "" || peer === undefined || peer.http === undefined) {
    return kvFailure(
      503,
      "NO_LEADER",
      status.leaderId === ""
        ? "group kv has no leader right now; retry shortly"
        : `leader ${leaderName ?? status.leaderId} has no known HTTP address`,
      { leader: leaderName ?? null },
      1,
    );
  }
  const target = peer.http;
  const limit = ctx.config.kv.maxValueBytes + FORWARD_BODY_SLACK;
  const failed = (reason: string): KvFailure =>
    kvFailure(
      502,
      "FORWARD_FAILED",
      `forwarding to leader ${peer.name} at ${formatEndpoint(target)} failed: ${reason}`,
      { leader: peer.name, outcome: method === "GET" ? "none" : "unknown" },
    );
  return new Promise<KvOutcome>((resolve) => {
    const upstream = request(
      {
        host: target.host,
        port: target.port,
        method,
        path,
        headers: {
          "content-type": "application/octet-stream",
          "content-length": body.length,
          [FORWARDED_HEADER]: ctx.config.serverName,
        },
        timeout: ctx.config.kv.proposalTimeoutMs + 5_000,
      },
      (up) => {
        readLimited(up, limit).then((bytes) => {
          if (bytes === undefined) {
            resolve(failed("the answer was cut off or too large"));
            return;
          }
          resolve(upstreamOutcome(method, up, bytes, peer.name) ?? failed("unreadable answer"));
        });
      },
    );
    upstream.on("timeout", () => upstream.destroy(new Error("timed out")));
    upstream.on("error", (err) => resolve(failed(err.message)));
    upstream.end(body);
  });
}

/** Turns the leader's HTTP answer back into an outcome; `undefined` when it is not one of ours. */
function upstreamOutcome(
  method: string,
  up: IncomingMessage,
  bytes: Uint8Array,
  leader: string,
): KvOutcome | undefined {
  const status = up.statusCode ?? 502;
  if (status === 200 && method === "GET") {
    const revision = Number(up.headers["x-kv-revision"]);
    if (!Number.isSafeInteger(revision)) return undefined;
    return { kind: "value", value: bytes, revision, via: leader };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null) return undefined;
  const o = json as Record<string, unknown>;
  if (status === 200) {
    if (
      typeof o["key"] !== "string" ||
      typeof o["revision"] !== "number" ||
      typeof o["existed"] !== "boolean" ||
      typeof o["leader"] !== "string"
    ) {
      return undefined;
    }
    return {
      kind: "written",
      result: {
        key: o["key"],
        revision: o["revision"],
        existed: o["existed"],
        leader: o["leader"],
      },
      via: leader,
    };
  }
  const { error, message, ...details } = o;
  if (typeof error !== "string" || typeof message !== "string") return undefined;
  const retry = Number(up.headers["retry-after"]);
  return {
    kind: "error",
    status,
    error,
    message,
    details,
    retryAfterS: Number.isFinite(retry) && retry > 0 ? retry : undefined,
    via: leader,
  };
}

/** Reads a response body of at most `limit` bytes; `undefined` when larger or aborted. */
function readLimited(res: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (v: Uint8Array | undefined): void => {
      if (done) return;
      done = true;
      resolve(v);
    };
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy();
        finish(undefined);
        return;
      }
      chunks.push(chunk);
    });
    res.on("end", () => finish(new Uint8Array(Buffer.concat(chunks))));
    res.on("error", () => finish(undefined));
    res.on("close", () => finish(undefined));
  });
}
