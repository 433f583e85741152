import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as natsConnect } from "@nats-io/transport-node";
import { encodeRouteFrame, ROUTE_PROTOCOL_VERSION, RouteOp } from "@raft/server-integration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePorts,
  type KvStatus,
  ProcessCluster,
  parseLogLines,
  spawnNodeServer,
  waitFor,
  waitForExit,
} from "./helpers/process-cluster";
import { RawClient } from "./helpers/raw-nats";

/** A raw route client: connects, optionally completes the handshake, then sends `bytes`. */
async function sendOnRoute(
  port: number,
  options: { handshake: boolean; bytes: Uint8Array; end?: boolean },
): Promise<void> {
  const socket: Socket = connect({ host: "127.0.0.1", port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  if (options.handshake) {
    socket.write(
      encodeRouteFrame({
        op: RouteOp.Hello,
        version: ROUTE_PROTOCOL_VERSION,
        serverName: "intruder",
        clusterName: "local",
      }),
    );
    // Let the node accept the route before the bad frame arrives.
    await new Promise((r) => setTimeout(r, 150));
  }
  socket.write(options.bytes);
  if (options.end === true) socket.end();
  // The node closes the route on a protocol error; don't wait long for the others.
  await Promise.race([closed, new Promise((r) => setTimeout(r, 500))]);
  socket.destroy();
}

/** A MSG frame (built with the fabric's own encoder). */
function msg(subject: string, data: Uint8Array): Uint8Array {
  return encodeRouteFrame({ op: RouteOp.Msg, subject, reply: undefined, data });
}

describe("node-server under bad input", () => {
  let cluster: ProcessCluster;
  let routePort: number;
  let httpPort: number;

  const protocolErrors = async (): Promise<number> => {
    const { body } = await cluster.json("n1", "/varz");
    return (body["fabric"] as { protocolErrors: number }).protocolErrors;
  };

  const expectServing = async (): Promise<void> => {
    const h = await cluster.json("n1", "/healthz");
    expect(h.status).toBe(200);
    const r = await fetch(`http://127.0.0.1:${httpPort}/kv/still-alive`, {
      method: "PUT",
      body: "yes",
    });
    expect(r.status).toBe(200);
  };

  /** Waits for a log line of n1 matching `match`, written after line number `from`. */
  const logged = (what: string, from: number, match: (line: Record<string, unknown>) => boolean) =>
    waitFor(what, () => parseLogLines(cluster.node("n1").lines.slice(from)).find(match), 5_000);
  const mark = (): number => cluster.node("n1").lines.length;

  beforeAll(async () => {
    // A one-server cluster (quorum 1) keeps this suite light; debug logs show dropped messages.
    cluster = await ProcessCluster.create({ size: 1, extra: { logLevel: "debug" } });
    cluster.startAll();
    routePort = cluster.node("n1").routePort;
    httpPort = cluster.node("n1").httpPort;
    await cluster.waitForLeader(20_000);
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  it("logs a garbage frame on a route as a protocol error and keeps serving", async () => {
    const from = mark();
    const before = await protocolErrors();
    await sendOnRoute(routePort, {
      handshake: false,
      // Length 6 (u32 LE), op 0x63 (no such op), junk: sent before any HELLO.
      bytes: Uint8Array.of(6, 0, 0, 0, 0x63, 0xde, 0xad, 0xbe, 0xef, 0x00),
    });
    const line = await logged(
      "a route protocol error log",
      from,
      (l) => l["msg"] === "route protocol error",
    );
    expect(line["code"]).toBe("UNKNOWN_OP");
    expect(await protocolErrors()).toBe(before + 1);
    await expectServing();
  });

  it("logs a frame with an unknown op after the handshake and keeps serving", async () => {
    const from = mark();
    const before = await protocolErrors();
    await sendOnRoute(routePort, { handshake: true, bytes: Uint8Array.of(2, 0, 0, 0, 0x63, 0x01) });
    await logged("an UNKNOWN_OP log", from, (l) => l["code"] === "UNKNOWN_OP");
    expect(await protocolErrors()).toBe(before + 1);
    await expectServing();
  });

  it("logs a truncated frame and keeps serving", async () => {
    const from = mark();
    const full = msg("$NRG.AE.kv", new Uint8Array(64));
    await sendOnRoute(routePort, { handshake: true, bytes: full.subarray(0, 20), end: true });
    await logged("a TRUNCATED_FRAME log", from, (l) => l["code"] === "TRUNCATED_FRAME");
    await expectServing();
  });

  it("refuses an oversized frame without buffering it and keeps serving", async () => {
    const from = mark();
    // Declares 1 GiB; the node must close the route at the header, not wait for the body.
    await sendOnRoute(routePort, {
      handshake: true,
      bytes: Uint8Array.of(0x00, 0x00, 0x00, 0x40, RouteOp.Msg, 0x00),
    });
    await logged("a FRAME_TOO_LARGE log", from, (l) => l["code"] === "FRAME_TOO_LARGE");
    await expectServing();
  });

  it("drops a message for an unknown group and an undecodable one for kv, and keeps serving", async () => {
    const from = mark();
    const before = (await cluster.kvStatus("n1")) as KvStatus;
    const frames = new Uint8Array([
      ...msg("$NRG.AE.nosuchgroup", Uint8Array.of(1, 2, 3)),
      ...msg("$NRG.AE.kv", Uint8Array.of(0xff, 0xff, 0xff)),
    ]);
    await sendOnRoute(routePort, { handshake: true, bytes: frames, end: true });
    const line = await logged(
      "a log of the message for the unknown group",
      from,
      (l) => l["msg"] === "message without interest" && l["subject"] === "$NRG.AE.nosuchgroup",
    );
    expect(line["peer"]).toBe("intruder");
    const after = await waitFor(
      "the kv group to count the undecodable message",
      async () => {
        const s = await cluster.kvStatus("n1");
        return s.queues.invalidDropped > before.queues.invalidDropped ? s : undefined;
      },
      5_000,
    );
    expect(after.queues.invalidDropped).toBe(before.queues.invalidDropped + 1);
    await expectServing();
  });

  it("answers bad HTTP requests with clear JSON errors and keeps serving", async () => {
    const base = `http://127.0.0.1:${httpPort}`;
    const badKey = await fetch(`${base}/kv/${encodeURIComponent("no spaces")}`, {
      method: "PUT",
      body: "x",
    });
    expect(badKey.status).toBe(400);
    expect(((await badKey.json()) as Record<string, unknown>)["error"]).toBe("INVALID_KEY");
    const longKey = await fetch(`${base}/kv/${"k".repeat(300)}`);
    expect(longKey.status).toBe(400);
    const tooBig = await fetch(`${base}/kv/big`, {
      method: "PUT",
      body: new Uint8Array(65 * 1024),
    });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as Record<string, unknown>)["error"]).toBe("VALUE_TOO_LARGE");
    const badJson = await fetch(`${base}/admin/groups/kv/stepdown`, {
      method: "POST",
      body: "{nope",
    });
    expect(badJson.status).toBe(400);
    const badField = await fetch(`${base}/admin/groups/kv/stepdown`, {
      method: "POST",
      body: JSON.stringify({ preferred: 42 }),
    });
    expect(badField.status).toBe(400);
    const unknownGroup = await fetch(`${base}/admin/groups/nope/stepdown`, { method: "POST" });
    expect(unknownGroup.status).toBe(404);
    const benchOff = await fetch(`${base}/admin/bench`, { method: "POST", body: "{}" });
    expect(benchOff.status).toBe(404);
    const badPeer = await fetch(`${base}/admin/groups/kv/peers/%E0%A4%A`, { method: "DELETE" });
    expect(badPeer.status).toBe(400);
    const badAdd = await fetch(`${base}/admin/groups/kv/peers`, { method: "POST", body: "{}" });
    expect(badAdd.status).toBe(400);
    const missingKey = await fetch(`${base}/kv/never-written`);
    expect(missingKey.status).toBe(404);
    // Raw garbage instead of HTTP.
    const raw = connect({ host: "127.0.0.1", port: httpPort });
    const reply = await new Promise<string>((resolve) => {
      let text = "";
      raw.on("data", (d) => {
        text += d.toString();
      });
      raw.on("close", () => resolve(text));
      raw.on("error", () => resolve(text));
      raw.write("\x00\x01GARBAGE \r\n\r\n");
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    await expectServing();
  });
  it("answers garbage, truncated and oversized NATS input with -ERR on that connection only", async () => {
    const port = cluster.node("n1").clientPort;
    const nc = await natsConnect({ servers: `127.0.0.1:${port}`, reconnect: false });
    try {
      const inputs: [Uint8Array, string][] = [
        [Uint8Array.of(0, 1, 2, 0xff, 13, 10), "-ERR 'Unknown Protocol Operation'"],
        [Buffer.from(`PUB x ${2 * 1024 * 1024}\r\n`), "-ERR 'Maximum Payload Violation'"],
        [Buffer.from(`SUB ${"a".repeat(10_000)}`), "-ERR 'Maximum Control Line Exceeded'"],
        [Buffer.from("PUB $RAFT.KV.PUT.k 10\r\nshort\r\nPING\r\n"), "-ERR 'Protocol Error"],
        [Buffer.from("CONNECT {\r\n"), "-ERR 'Invalid Connect Options"],
      ];
      for (const [bytes, answer] of inputs) {
        const r = await RawClient.open(port);
        r.send(bytes);
        await r.waitForText(answer);
        await r.waitForClose();
      }
      // A truncated message followed by a hang-up.
      const cut = await RawClient.open(port);
      cut.send("PUB $RAFT.KV.PUT.cut 100\r\nonly part");
      cut.destroy();
      const put = await nc.request("$RAFT.KV.PUT.after-garbage", "ok", { timeout: 5_000 });
      expect(JSON.parse(put.string())).toMatchObject({ key: "after-garbage" });
      const { body } = await cluster.json("n1", "/varz");
      expect((body["nats"] as { protocolErrors: number }).protocolErrors).toBe(inputs.length);
      await expectServing();
    } finally {
      await nc.close();
    }
  });
});

describe("node-server start-up errors", () => {
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "node-server-startup-"));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("exits 2 with a readable message, naming each bad field, on an invalid config file", async () => {
    const file = join(scratch, "bad.json");
    await writeFile(
      file,
      JSON.stringify({
        serverName: "bad name",
        listen: "nohost",
        peers: [{ name: "n2", route: "1.2.3.4:70000" }],
        extra: true,
      }),
    );
    const lines: string[] = [];
    const code = await waitForExit(spawnNodeServer(["--config", file], lines), 20_000);
    expect(code).toBe(2);
    const text = lines.join("\n");
    expect(text).toContain("serverName:");
    expect(text).toContain('listen: expected "host:port"');
    expect(text).toContain("http: is required");
    expect(text).toContain("peers[0].route: port 70000 is above 65535");
    expect(text).toContain('unknown field "extra"');
    expect(text).not.toMatch(/^\s+at /m);
  });

  it("exits 2 on a config file that is not JSON and on an unknown flag", async () => {
    const file = join(scratch, "not-json.json");
    await writeFile(file, "{ not json");
    const lines: string[] = [];
    expect(await waitForExit(spawnNodeServer(["--config", file], lines), 20_000)).toBe(2);
    expect(lines.join("\n")).toContain("not valid JSON");
    const flagLines: string[] = [];
    expect(await waitForExit(spawnNodeServer(["--no-such-flag"], flagLines), 20_000)).toBe(2);
    expect(flagLines.join("\n")).toContain("--no-such-flag");
  });

  it("exits 1 with a clear message when its route port is taken", async () => {
    const [routePort, httpPort] = await freePorts(2);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(routePort, "127.0.0.1", () => r()));
    try {
      const lines: string[] = [];
      const dir = join(scratch, "data");
      const child = spawnNodeServer(
        [
          "--name",
          "n1",
          "--listen",
          `127.0.0.1:${routePort}`,
          "--http",
          `127.0.0.1:${httpPort}`,
          "--data-dir",
          dir,
        ],
        lines,
      );
      expect(await waitForExit(child, 20_000)).toBe(1);
      expect(lines.join("\n")).toContain(`cannot listen on 127.0.0.1:${routePort}`);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
