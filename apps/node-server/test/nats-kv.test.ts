import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { connect, headers } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseNodeConfig } from "../src/config";
import { createAppLogger } from "../src/logger";
import type { RunningNode } from "../src/node";
import { startNode } from "../src/node";
import { FAST_TIMING, waitFor } from "./helpers/process-cluster";
import { RawClient } from "./helpers/raw-nats";

function json(m: Msg): Record<string, unknown> {
  return JSON.parse(m.string()) as Record<string, unknown>;
}

describe("KV service over NATS (one in-process node)", () => {
  let dir: string;
  let node: RunningNode;
  let nc: NatsConnection;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "node-server-nats-kv-"));
    const parsed = parseNodeConfig({
      serverName: "solo",
      listen: "127.0.0.1:0",
      http: "127.0.0.1:0",
      client: { port: 0 },
      dataDir: join(dir, "solo"),
      logLevel: "fatal",
      timing: FAST_TIMING,
      kv: { maxValueBytes: 1024 },
    });
    if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
    node = await startNode(parsed.config, createAppLogger("fatal", "solo"));
    await waitFor("solo to lead", () => (node.kv.isLeader() ? true : undefined), 10_000);
    nc = await connect({ servers: `127.0.0.1:${node.client.port}`, reconnect: false });
  });

  afterAll(async () => {
    await nc?.close();
    await node?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("puts, reads (local and linearizable) and deletes a key, and HTTP sees the same data", async () => {
    const put = await nc.request("$RAFT.KV.PUT.greeting.en", "hello", { timeout: 5_000 });
    expect(put.headers).toBeUndefined();
    const written = json(put);
    expect(written).toMatchObject({ key: "greeting.en", existed: false, leader: "solo" });
    expect(typeof written["revision"]).toBe("number");

    const local = await nc.request("$RAFT.KV.GET.greeting.en", "", { timeout: 5_000 });
    expect(local.string()).toBe("hello");
    expect(local.headers?.get("Raft-Revision")).toBe(String(written["revision"]));

    const h = headers();
    h.set("Raft-Read", "linearizable");
    const lin = await nc.request("$RAFT.KV.GET.greeting.en", "", { timeout: 5_000, headers: h });
    expect(lin.string()).toBe("hello");

    const http = await fetch(`http://127.0.0.1:${node.http.port}/kv/greeting.en`);
    expect(await http.text()).toBe("hello");
    expect(http.headers.get("x-kv-revision")).toBe(String(written["revision"]));

    const del = await nc.request("$RAFT.KV.DEL.greeting.en", "", { timeout: 5_000 });
    expect(json(del)).toMatchObject({ key: "greeting.en", existed: true });
    const gone = await nc.request("$RAFT.KV.GET.greeting.en", "", { timeout: 5_000 });
    expect(gone.headers?.code).toBe(404);
    expect(gone.headers?.description).toBe("Not Found");
    expect(gone.headers?.get("Raft-Error")).toBe("NOT_FOUND");
    expect(json(gone)).toMatchObject({ error: "NOT_FOUND" });
  });

  it("answers bad keys, oversized values and bad headers with a 4xx status and a JSON body", async () => {
    const badKey = await nc.request("$RAFT.KV.PUT.bad!key", "v", { timeout: 5_000 });
    expect(badKey.headers?.code).toBe(400);
    expect(json(badKey)).toMatchObject({ error: "INVALID_KEY" });

    const big = await nc.request("$RAFT.KV.PUT.big", new Uint8Array(1025), { timeout: 5_000 });
    expect(big.headers?.code).toBe(413);
    expect(json(big)).toMatchObject({ error: "VALUE_TOO_LARGE" });

    const h = headers();
    h.set("Raft-Read", "sometimes");
    const badRead = await nc.request("$RAFT.KV.GET.any", "", { timeout: 5_000, headers: h });
    expect(badRead.headers?.code).toBe(400);
    expect(json(badRead)).toMatchObject({ error: "BAD_HEADERS" });

    // An unknown operation has no responder.
    const unknown = await nc
      .request("$RAFT.KV.FOO.k", "", { timeout: 2_000 })
      .catch((e: unknown) => e);
    expect((unknown as { isNoResponders?: () => boolean }).isNoResponders?.()).toBe(true);
  });

  it("executes a PUT without a reply subject, and serves a client without headers support", async () => {
    nc.publish("$RAFT.KV.PUT.fire-and-forget", "done");
    await waitFor(
      "the unanswered put to apply",
      async () => {
        const r = await fetch(`http://127.0.0.1:${node.http.port}/kv/fire-and-forget`);
        return r.status === 200 ? await r.text() : undefined;
      },
      5_000,
    );
    const r = await RawClient.open(node.client.port);
    try {
      r.send("CONNECT {}\r\nSUB inbox.1 1\r\nPUB $RAFT.KV.GET.fire-and-forget inbox.1 0\r\n\r\n");
      await r.waitForText("MSG inbox.1 1 4\r\ndone\r\n");
      r.send("PUB $RAFT.KV.GET.missing inbox.1 0\r\n\r\n");
      await r.waitForText('"error":"NOT_FOUND"');
      expect(r.text).not.toContain("HMSG");
    } finally {
      r.destroy();
    }
  });
});
