import type { IncomingMessage, ServerResponse } from "node:http";
import { request } from "node:http";
import { ServerError } from "@raft/server-integration";
import { z } from "zod";
import { formatEndpoint } from "../config";
import type { KvCommand, KvResult } from "../kv-state-machine";
import { readBody, sendCommonServerError, sendError, sendJson } from "./http-util";
import type { NodeContext } from "./node-context";

/** Header marking a request forwarded by a follower, so that it is never forwarded twice. */
export const FORWARDED_HEADER = "x-raft-forwarded-by";

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

/** Parses and validates the `:key` path segment; a string is the error message. */
export function parseKey(segment: string): { key: string } | { error: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return { error: "key is not valid percent-encoding" };
  }
  const r = keySchema.safeParse(decoded);
  if (!r.success) return { error: r.error.issues.map((i) => i.message).join("; ") };
  return { key: r.data };
}

/**
 * `GET /kv/:key`: the value as applied on this server. Plain reads are local and not
 * linearizable (a follower may lag the leader, and a deposed leader may not know it yet).
 * `GET /kv/:key?linearizable` is: the leader first passes the group's read barrier (a quorum
 * confirms it still leads, then it has applied everything committed when the read began), and a
 * follower forwards the read to the leader once.
 */
export async function handleKvGet(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
): Promise<void> {
  if (wantsLinearizable(req.url)) {
    if (ctx.kv.state() !== "leader") {
      await forwardToLeader(ctx, req, res, new Uint8Array(0));
      return;
    }
    try {
      await ctx.kv.readBarrier();
    } catch (error) {
      sendProposeError(ctx, res, error);
      return;
    }
  }
  const entry = ctx.store.get(key);
  if (entry === undefined) {
    sendError(res, 404, "NOT_FOUND", `key ${key} not found on ${ctx.config.serverName}`);
    return;
  }
  res.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": entry.value.length,
    "x-kv-revision": String(entry.revision),
  });
  res.end(entry.value);
}

function wantsLinearizable(url: string | undefined): boolean {
  const query = new URL(url ?? "/", "http://localhost").searchParams;
  return query.has("linearizable") && query.get("linearizable") !== "false";
}

/**
 * `PUT /kv/:key` and `DELETE /kv/:key`. On the leader: proposes the command and answers once it is
 * committed (durable on a quorum) and applied here. On a follower: forwards the request over HTTP
 * to the leader's monitoring port (known from config) and relays its answer, once; without a known
 * leader (or its address) it answers 503 with a JSON reason.
 */
export async function handleKvWrite(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
): Promise<void> {
  let command: KvCommand;
  let body: Uint8Array = new Uint8Array(0);
  if (req.method === "PUT") {
    const r = await readBody(req, ctx.config.kv.maxValueBytes);
    if (!r.ok) {
      if (r.reason === "too_large") {
        sendError(
          res,
          413,
          "VALUE_TOO_LARGE",
          `value exceeds kv.maxValueBytes (${ctx.config.kv.maxValueBytes} bytes)`,
          {},
          { connection: "close" },
        );
      }
      return;
    }
    body = r.body;
    command = { op: "put", key, value: body };
  } else {
    command = { op: "delete", key };
  }

  // A leader whose election no-op is not applied yet still takes the proposal (it is queued).
  if (!ctx.kv.isLeader() && ctx.kv.state() !== "leader") {
    await forwardToLeader(ctx, req, res, body);
    return;
  }
  try {
    const result = await ctx.kv.propose(command);
    sendResult(res, key, result, ctx.config.serverName);
  } catch (error) {
    sendProposeError(ctx, res, error);
  }
}

function sendResult(res: ServerResponse, key: string, result: KvResult, serverName: string): void {
  if (!result.ok) {
    sendError(res, 500, "APPLY_FAILED", result.error);
    return;
  }
  sendJson(res, 200, {
    key,
    revision: result.revision,
    existed: result.existed,
    leader: serverName,
  });
}

function sendProposeError(ctx: NodeContext, res: ServerResponse, error: unknown): void {
  if (error instanceof ServerError) {
    switch (error.code) {
      case "NOT_LEADER":
        // Lost leadership before the command applied: it may still commit later.
        sendError(res, 503, "NOT_LEADER", error.message, {
          leader: error.leaderServerName ?? null,
          outcome: "unknown",
        });
        return;
      case "TIMEOUT":
      case "OVERLOADED":
      case "CLOSED":
        sendCommonServerError(res, error);
        return;
      case "INVALID_ARGUMENT":
        sendError(res, 400, "INVALID_ARGUMENT", error.message);
        return;
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
  ctx.logger.error({ err: error }, "kv write failed");
  sendError(res, 500, "INTERNAL", error instanceof Error ? error.message : String(error));
}

async function forwardToLeader(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  body: Uint8Array,
): Promise<void> {
  const status = ctx.kv.status();
  const leaderName = status.leaderServerName;
  if (req.headers[FORWARDED_HEADER] !== undefined) {
    // Forwarded to us but we do not lead (any more): never forward again, so no loop can form.
    sendError(res, 503, "NOT_LEADER", `${ctx.config.serverName} is not the leader of kv`, {
      leader: leaderName ?? null,
    });
    return;
  }
  const peer = ctx.config.peers.find((p) => p.name === leaderName);
  if (status.leaderId === "" || peer === undefined || peer.http === undefined) {
    sendError(
      res,
      503,
      "NO_LEADER",
      status.leaderId === ""
        ? "group kv has no leader right now; retry shortly"
        : `leader ${leaderName ?? status.leaderId} has no known HTTP address`,
      { leader: leaderName ?? null },
      { "retry-after": "1" },
    );
    return;
  }
  const target = peer.http;
  await new Promise<void>((resolve) => {
    const upstream = request(
      {
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: {
          "content-type": "application/octet-stream",
          "content-length": body.length,
          [FORWARDED_HEADER]: ctx.config.serverName,
        },
        timeout: ctx.config.kv.proposalTimeoutMs + 5_000,
      },
      (up) => {
        const headers: Record<string, string> = { "x-raft-leader": peer.name };
        const type = up.headers["content-type"];
        if (typeof type === "string") headers["content-type"] = type;
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
        up.on("end", resolve);
        up.on("error", () => {
          res.destroy();
          resolve();
        });
      },
    );
    upstream.on("timeout", () => upstream.destroy(new Error("timed out")));
    upstream.on("error", (err) => {
      if (!res.headersSent) {
        sendError(
          res,
          502,
          "FORWARD_FAILED",
          `forwarding to leader ${peer.name} at ${formatEndpoint(target)} failed: ${err.message}`,
          { leader: peer.name, outcome: "unknown" },
        );
      } else {
        res.destroy();
      }
      resolve();
    });
    upstream.end(body);
  });
}
