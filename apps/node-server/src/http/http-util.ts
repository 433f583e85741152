import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerError } from "@raft/server-integration";

/** Sends `body` as JSON with `status`. Safe to call once per response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A JSON error body: `{ error: CODE, message }` plus optional details. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
  headers: Readonly<Record<string, string>> = {},
): void {
  sendJson(res, status, { error: code, message, ...details }, headers);
}

/** Outcome of {@link readBody}. */
export type BodyResult =
  | { readonly ok: true; readonly body: Uint8Array }
  | { readonly ok: false; readonly reason: "too_large" | "aborted" };

/**
 * Reads a request body of at most `limit` bytes. Stops reading (and reports `too_large`) as soon
 * as the limit is crossed, so an oversized upload never sits in memory.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve({ ok: false, reason: "too_large" });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult): void => {
      if (done) return;
      done = true;
      resolve(r);
    };
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        req.resume();
        finish({ ok: false, reason: "too_large" });
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      finish({ ok: true, body: new Uint8Array(body.buffer, body.byteOffset, body.length) });
    });
    req.on("error", () => finish({ ok: false, reason: "aborted" }));
    req.on("close", () => finish({ ok: false, reason: "aborted" }));
  });
}

/**
 * Answers the outcomes every Raft request shares (`TIMEOUT`: outcome unknown; `OVERLOADED`: retry
 * later; `CLOSED`: the group stopped). Returns false for any other code, which the caller maps.
 */
export function sendCommonServerError(res: ServerResponse, error: ServerError): boolean {
  switch (error.code) {
    case "TIMEOUT":
      sendError(res, 504, "TIMEOUT", error.message, { outcome: "unknown" });
      return true;
    case "OVERLOADED":
      sendError(res, 503, "OVERLOADED", error.message, {}, { "retry-after": "1" });
      return true;
    case "CLOSED":
      sendError(res, 503, "CLOSED", error.message);
      return true;
    default:
      return false;
  }
}
