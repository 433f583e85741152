import type { KvOutcome, KvServiceContext } from "../kv-service";
import { kvFailure, kvGet, kvWrite } from "../kv-service";
import type { ClientListener } from "./client-listener";
import type { NatsHeaders } from "./headers";
import { decodeHeaders, encodeHeaders, headerValue } from "./headers";
import type { NatsError } from "./nats-error";
import type { NatsMessage } from "./subscription";

/** Subject prefix of the KV service; the operation and then the key follow it. */
export const KV_SUBJECT_PREFIX = "$RAFT.KV.";

/** Header that asks a `GET` for a linearizable read (value `linearizable`). */
export const READ_HEADER = "Raft-Read";

/** Requests handled at once; more are answered 503 `OVERLOADED` at once instead of queued. */
export const KV_MAX_IN_FLIGHT: number = 4096;

const OPS = ["PUT", "GET", "DEL"] as const;
type Op = (typeof OPS)[number];

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  404: "Not Found",
  413: "Payload Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * Serves the `kv` group over NATS request/reply on this node's listener:
 * `$RAFT.KV.PUT.<key>` (payload = value), `$RAFT.KV.GET.<key>` (header `Raft-Read: linearizable`
 * for a read through the leader's read barrier) and `$RAFT.KV.DEL.<key>`. It uses the same KV
 * service as the HTTP routes (validation, forwarding from a follower to the leader, error
 * mapping). Replies go to the request's reply subject: a value as the raw payload with header
 * `Raft-Revision`; a write as JSON `{key, revision, existed, leader}`; an error as a status
 * header (`NATS/1.0 404 Not Found`, …, with `Raft-Error: <CODE>`) and a JSON body
 * `{error, message, …}` (never empty, so that clients do not mistake a 503 for "no responders").
 * A request without a reply subject is still executed (writes) but not answered.
 * Returns the function that unsubscribes the service.
 */
export function startKvNatsService(ctx: KvServiceContext, listener: ClientListener): () => void {
  let inFlight = 0;
  const handle = async (op: Op, msg: NatsMessage): Promise<void> => {
    const key = msg.subject.slice(KV_SUBJECT_PREFIX.length + op.length + 1);
    let outcome: KvOutcome;
    if (inFlight >= KV_MAX_IN_FLIGHT) {
      outcome = kvFailure(503, "OVERLOADED", "too many KV requests in flight on this node", {}, 1);
    } else {
      inFlight++;
      try {
        outcome = await execute(ctx, op, key, msg);
      } finally {
        inFlight--;
      }
    }
    if (msg.reply !== undefined) listener.publish(render(msg.reply, outcome));
  };
  const unsubscribes = OPS.map((op) =>
    listener.subscribe(`${KV_SUBJECT_PREFIX}${op}.>`, (msg) => handle(op, msg)),
  );
  return () => {
    for (const u of unsubscribes) u();
  };
}

async function execute(
  ctx: KvServiceContext,
  op: Op,
  key: string,
  msg: NatsMessage,
): Promise<KvOutcome> {
  let headers: NatsHeaders | undefined;
  if (msg.headers !== undefined) {
    try {
      headers = decodeHeaders(msg.headers);
    } catch (error) {
      return kvFailure(400, "BAD_HEADERS", (error as NatsError).message);
    }
  }
  switch (op) {
    case "GET": {
      const read = headers === undefined ? undefined : headerValue(headers, READ_HEADER);
      if (read !== undefined && read !== "linearizable" && read !== "local") {
        return kvFailure(400, "BAD_HEADERS", `${READ_HEADER} must be linearizable or local`);
      }
      return kvGet(ctx, key, { linearizable: read === "linearizable", forwarded: false });
    }
    case "PUT":
      // Copy: the payload may share memory with a larger buffer, and the command is kept.
      return kvWrite(ctx, { op: "put", key, value: msg.payload.slice() }, { forwarded: false });
    case "DEL":
      return kvWrite(ctx, { op: "delete", key }, { forwarded: false });
    default: {
      const never: never = op;
      return never;
    }
  }
}

function render(reply: string, outcome: KvOutcome): NatsMessage {
  const leader: [string, string][] =
    outcome.via === undefined ? [] : [["Raft-Leader", outcome.via]];
  switch (outcome.kind) {
    case "value":
      return {
        subject: reply,
        reply: undefined,
        headers: encodeHeaders({
          fields: [["Raft-Revision", String(outcome.revision)], ...leader],
        }),
        payload: outcome.value,
      };
    case "written":
      return {
        subject: reply,
        reply: undefined,
        headers: undefined,
        payload: Buffer.from(JSON.stringify(outcome.result)),
      };
    case "error": {
      const fields: [string, string][] = [["Raft-Error", outcome.error]];
      const known = outcome.details["leader"];
      if (typeof known === "string") fields.push(["Raft-Leader", known]);
      if (outcome.retryAfterS !== undefined) {
        fields.push(["Retry-After", String(outcome.retryAfterS)]);
      }
      const body = { error: outcome.error, message: outcome.message, ...outcome.details };
      return {
        subject: reply,
        reply: undefined,
        headers: encodeHeaders({
          status: outcome.status,
          description: REASONS[outcome.status] ?? outcome.error,
          fields,
        }),
        payload: Buffer.from(JSON.stringify(body)),
      };
    }
    default: {
      const never: never = outcome;
      return never;
    }
  }
}
