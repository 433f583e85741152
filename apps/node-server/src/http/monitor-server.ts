import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { toError } from "@raft/codec";
import type { RaftGroup } from "@raft/server-integration";
import { z } from "zod";
import { LOAD_LIMITS, runLoad } from "../bench-load";
import type { Endpoint } from "../config";
import { formatEndpoint } from "../config";
import type { NodeFabric } from "../fabric/node-fabric";
import { fabricRoutes, isNatsFabric } from "../fabric/node-fabric";
import { addPeer, addPeerBody, removePeer } from "./admin-peers";
import { readBody, sendError, sendJson } from "./http-util";
import { handleKvGet, handleKvWrite, parseKey } from "./kv-routes";
import { renderMetrics } from "./metrics";
import type { NodeContext } from "./node-context";
import { KV_GROUP } from "./node-context";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus";

/** The running monitoring HTTP server. */
export interface MonitorServer {
  /** The bound address (the real port when 0 was configured). */
  readonly address: Endpoint;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/**
 * Opens the monitoring and KV HTTP listener. Every handler is wrapped: a bad request gets a JSON
 * 4xx, an unexpected failure a JSON 500 and an error log; neither can crash the node.
 *
 * @throws Error when the address cannot be bound (message names the address and the reason).
 */
export async function startMonitorServer(ctx: NodeContext): Promise<MonitorServer> {
  const counters = new Map<string, number>();
  const server = createServer((req, res) => {
    res.on("finish", () => {
      const code = String(res.statusCode);
      counters.set(code, (counters.get(code) ?? 0) + 1);
    });
    route(ctx, req, res, counters).catch((error: unknown) => {
      const err = toError(error);
      ctx.logger.error({ err, method: req.method, url: req.url }, "http handler failed");
      if (!res.headersSent) sendError(res, 500, "INTERNAL", err.message);
      else res.destroy();
    });
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.on("clientError", (_err, socket) => {
    // Malformed HTTP: answer 400 if the socket still can, never throw.
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });
  await listen(server, ctx.config.http);
  const bound = server.address();
  const address: Endpoint = {
    host: ctx.config.http.host,
    port: typeof bound === "object" && bound !== null ? bound.port : ctx.config.http.port,
  };
  ctx.logger.info({ http: formatEndpoint(address) }, "monitoring listener started");
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, at: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new Error(
          `cannot listen for HTTP on ${formatEndpoint(at)}: ${err.code === "EADDRINUSE" ? "address already in use" : err.message}`,
          { cause: err },
        ),
      );
    };
    server.once("error", onError);
    server.listen(at.port, at.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

async function route(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  counters: ReadonlyMap<string, number>,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://node");
  const parts = url.pathname.split("/").filter((p) => p !== "");
  const method = req.method ?? "GET";
  const [first, second, third, fourth] = parts;

  if (parts.length === 1 && method === "GET") {
    switch (first) {
      case "healthz":
        return healthz(ctx, res);
      case "varz":
        return sendJson(res, 200, varz(ctx));
      case "raftz":
        return sendJson(res, 200, raftz(ctx, url.searchParams.get("group")));
      case "metrics": {
        const text = renderMetrics(ctx, counters);
        res.writeHead(200, {
          "content-type": PROMETHEUS_CONTENT_TYPE,
          "content-length": Buffer.byteLength(text),
        });
        res.end(text);
        return;
      }
    }
  }
  if (first === "kv" && parts.length === 2 && second !== undefined) {
    const parsed = parseKey(second);
    if ("error" in parsed) return sendError(res, 400, "INVALID_KEY", parsed.error);
    if (method === "GET") return handleKvGet(ctx, req, res, parsed.key);
    if (method === "PUT" || method === "DELETE") {
      return handleKvWrite(ctx, req, res, parsed.key);
    }
    return sendError(
      res,
      405,
      "METHOD_NOT_ALLOWED",
      `${method} is not allowed on /kv/:key`,
      {},
      {
        allow: "GET, PUT, DELETE",
      },
    );
  }
  if (first === "admin" && method === "POST") {
    if (second === "groups" && third !== undefined && fourth === "stepdown" && parts.length === 4) {
      return stepDown(ctx, req, res, third);
    }
    if (second === "groups" && third !== undefined && fourth === "peers" && parts.length === 4) {
      const group = lookupGroup(ctx, res, third);
      const body = group === undefined ? undefined : await readJsonBody(req, res, addPeerBody);
      if (group === undefined || body === undefined) return;
      return addPeer(ctx, res, group, body);
    }
    if (second === "bench" && parts.length === 2) return bench(ctx, req, res);
  }
  if (first === "admin" && method === "DELETE" && second === "groups" && fourth === "peers") {
    const peer = parts[4];
    if (third !== undefined && peer !== undefined && parts.length === 5) {
      const group = lookupGroup(ctx, res, third);
      if (group === undefined) return;
      let decoded: string;
      try {
        decoded = decodeURIComponent(peer);
      } catch {
        return sendError(res, 400, "INVALID_PEER", "peer is not valid percent-encoding");
      }
      return removePeer(ctx, req, res, group, decoded);
    }
  }
  sendError(res, 404, "NOT_FOUND", `no endpoint ${method} ${url.pathname}`);
}

function healthz(ctx: NodeContext, res: ServerResponse): void {
  const s = ctx.kv.status();
  const base = {
    group: KV_GROUP,
    state: s.state,
    leader: s.leaderServerName ?? (s.leaderId || null),
  };
  let reason: string | undefined;
  const member = ctx.kv.peerNames().includes(ctx.kv.id);
  if (!member) reason = `this server is not a member of group ${KV_GROUP}`;
  else if (s.state === "closed") reason = `group ${KV_GROUP} is stopped`;
  else if (s.leaderId === "") reason = `group ${KV_GROUP} has no leader`;
  else if (!s.healthy) {
    reason = `not current with the leader (commit ${s.commit}, applied ${s.applied})`;
  }
  if (reason !== undefined) {
    sendJson(res, 503, { status: "unavailable", reason, ...base });
    return;
  }
  sendJson(res, 200, { status: "ok", ...base });
}

/** The fabric's kind and counters; over NATS also the connection and the servers configured. */
function fabricStatus(fabric: NodeFabric): object {
  if (!isNatsFabric(fabric)) return { kind: "routes", ...fabric.metrics() };
  return {
    kind: "nats",
    ...fabric.metrics(),
    connected: fabric.isConnected(),
    server: fabric.connectedServer() ?? null,
    maxPayload: fabric.maxPayload(),
  };
}

function varz(ctx: NodeContext): object {
  const c = ctx.config;
  return {
    serverName: c.serverName,
    clusterName: c.clusterName,
    nodeId: ctx.server.nodeId,
    version: ctx.version,
    node: process.version,
    pid: process.pid,
    startedAt: ctx.startedAt,
    uptimeMs: Math.round(performance.now() - ctx.startedAtMs),
    memory: process.memoryUsage(),
    /** Microseconds of CPU used since the process started. */
    cpu: process.cpuUsage(),
    listen: c.listen === undefined ? null : formatEndpoint(c.listen),
    http: formatEndpoint(c.http),
    client: formatEndpoint(ctx.nats.address),
    nats: ctx.nats.stats(),
    dataDir: c.dataDir,
    sync: c.sync,
    peers: c.peers.map((p) => ({
      name: p.name,
      route: p.route === undefined ? null : formatEndpoint(p.route),
      http: p.http === undefined ? null : formatEndpoint(p.http),
    })),
    routes: fabricRoutes(ctx.fabric),
    fabric: fabricStatus(ctx.fabric),
    raft: ctx.server.stats(),
    kv: { keys: ctx.store.size() },
  };
}

function raftz(ctx: NodeContext, only: string | null): object {
  const groups: Record<string, unknown> = {};
  for (const s of ctx.server.status()) {
    if (only !== null && s.group !== only) continue;
    // The committed members, as ids and server names, beside the status's peer progress.
    const members = (ctx.server.lookupRaftNode(s.group)?.peerNames() ?? []).map((id) => ({
      id,
      server: ctx.server.serverNameForNode(id) ?? null,
    }));
    groups[s.group] = { ...s, members };
  }
  return { serverName: ctx.config.serverName, nodeId: ctx.server.nodeId, groups };
}

/** The group named `name`, or undefined after answering 404. */
function lookupGroup(ctx: NodeContext, res: ServerResponse, name: string): RaftGroup | undefined {
  const group = ctx.server.lookupRaftNode(name);
  if (group === undefined) {
    sendError(
      res,
      404,
      "UNKNOWN_GROUP",
      `no group ${JSON.stringify(name)} on ${ctx.config.serverName}`,
    );
  }
  return group;
}

const stepDownBody = z
  .strictObject({ preferred: z.string().length(8, "preferred must be an 8-character node id") })
  .partial();

async function stepDown(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  groupName: string,
): Promise<void> {
  const body = await readJsonBody(req, res, stepDownBody);
  if (body === undefined) return;
  const group = lookupGroup(ctx, res, groupName);
  if (group === undefined) return;
  const stepped = await group.stepDown(body.preferred);
  if (!stepped) {
    const s = group.status();
    return sendError(
      res,
      409,
      "NOT_LEADER",
      `${ctx.config.serverName} does not lead ${groupName}`,
      {
        leader: s.leaderServerName ?? (s.leaderId || null),
      },
    );
  }
  ctx.logger.info({ group: groupName, preferred: body.preferred }, "stepped down on request");
  sendJson(res, 200, { group: groupName, steppedDown: true });
}

const benchBody = z.strictObject({
  outstanding: z.int().min(1).max(LOAD_LIMITS.outstanding),
  durationMs: z.int().min(1).max(LOAD_LIMITS.durationMs),
  maxProposals: z.int().min(1).max(LOAD_LIMITS.maxProposals).default(LOAD_LIMITS.maxProposals),
  valueBytes: z.int().min(1).max(LOAD_LIMITS.valueBytes).default(256),
});

async function bench(ctx: NodeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!ctx.config.benchEndpoint) {
    return sendError(
      res,
      404,
      "NOT_FOUND",
      "the bench endpoint is disabled (benchEndpoint: false)",
    );
  }
  const body = await readJsonBody(req, res, benchBody);
  if (body === undefined) return;
  if (!ctx.kv.isLeader()) {
    const s = ctx.kv.status();
    return sendError(res, 409, "NOT_LEADER", "bench load runs on the kv leader only", {
      leader: s.leaderServerName ?? (s.leaderId || null),
    });
  }
  ctx.logger.info(body, "bench load started");
  const report = await runLoad(ctx.kv, body);
  ctx.logger.info({ ...report }, "bench load finished");
  sendJson(res, 200, report);
}

/** Reads a small JSON body (empty = `{}`) and validates it; answers 400 and returns undefined on error. */
async function readJsonBody<T>(
  req: IncomingMessage,
  res: ServerResponse,
  schema: z.ZodType<T>,
): Promise<T | undefined> {
  const r = await readBody(req, 64 * 1024);
  if (!r.ok) {
    if (r.reason === "too_large") sendError(res, 413, "BODY_TOO_LARGE", "body exceeds 64 KiB");
    return undefined;
  }
  let value: unknown = {};
  if (r.body.length > 0) {
    try {
      value = JSON.parse(Buffer.from(r.body).toString("utf8"));
    } catch (error) {
      sendError(res, 400, "INVALID_JSON", toError(error).message);
      return undefined;
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
    sendError(res, 400, "INVALID_BODY", issues.join("; "));
    return undefined;
  }
  return parsed.data;
}
