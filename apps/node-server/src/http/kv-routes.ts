import type { IncomingMessage, ServerResponse } from "node:http";
import type { KvOutcome } from "../kv-service";
import { FORWARDED_HEADER, keyError, kvGet, kvWrite } from "../kv-service";
import type { KvCommand } from "../kv-state-machine";
import { readBody, sendError, sendJson } from "./http-util";
import type { NodeContext } from "./node-context";

/** Parses and validates the `:key` path segment; a string is the error message. */
export function parseKey(segment: string): { key: string } | { error: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return { error: "key is not valid percent-encoding" };
  }
  const error = keyError(decoded);
  return error === undefined ? { key: decoded } : { error };
}

/**
 * `GET /kv/:key`: the value as applied on this server (a local read, not linearizable).
 * `GET /kv/:key?linearizable` goes through the leader's read barrier; a follower forwards it to
 * the leader once. See `kvGet` in `kv-service.ts`, which the NATS service shares.
 */
export async function handleKvGet(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
): Promise<void> {
  const outcome = await kvGet(ctx, key, {
    linearizable: wantsLinearizable(req.url),
    forwarded: req.headers[FORWARDED_HEADER] !== undefined,
  });
  sendOutcome(res, outcome);
}

function wantsLinearizable(url: string | undefined): boolean {
  const query = new URL(url ?? "/", "http://localhost").searchParams;
  return query.has("linearizable") && query.get("linearizable") !== "false";
}

/**
 * `PUT /kv/:key` and `DELETE /kv/:key`: answered once the command is committed (durable on a
 * quorum) and applied on the leader; a follower forwards the request to the leader once. The
 * upload is not buffered past `kv.maxValueBytes` (413 and the connection is closed).
 */
export async function handleKvWrite(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
): Promise<void> {
  let command: KvCommand;
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
    command = { op: "put", key, value: r.body };
  } else {
    command = { op: "delete", key };
  }
  const outcome = await kvWrite(ctx, command, {
    forwarded: req.headers[FORWARDED_HEADER] !== undefined,
  });
  sendOutcome(res, outcome);
}

/** Renders a KV outcome as HTTP: the value, the write's JSON, or a JSON error with its status. */
function sendOutcome(res: ServerResponse, outcome: KvOutcome): void {
  const headers: Record<string, string> = {};
  if (outcome.via !== undefined) headers["x-raft-leader"] = outcome.via;
  switch (outcome.kind) {
    case "value":
      res.writeHead(200, {
        ...headers,
        "content-type": "application/octet-stream",
        "content-length": outcome.value.length,
        "x-kv-revision": String(outcome.revision),
      });
      res.end(outcome.value);
      return;
    case "written":
      sendJson(res, 200, outcome.result, headers);
      return;
    case "error":
      if (outcome.retryAfterS !== undefined) headers["retry-after"] = String(outcome.retryAfterS);
      sendError(res, outcome.status, outcome.error, outcome.message, outcome.details, headers);
      return;
    default: {
      const never: never = outcome;
      void never;
    }
  }
}
