import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InteropLimits, NatsServerProcess } from "./helpers/nats-server-process";
import { startNatsServer } from "./helpers/nats-server-process";
import {
  freePorts,
  mapConcurrent,
  ProcessCluster,
  parseLogLines,
  spawnNodeServer,
  waitFor,
  waitForExit,
} from "./helpers/process-cluster";

const WRITES = 100;

const LIMITS: InteropLimits = {
  maxPayload: 1024 * 1024,
  maxControlLine: 4096,
  maxPendingBytes: 64 * 1024 * 1024,
  maxConnections: 1000,
  pingIntervalMs: 120_000,
  maxPingsOut: 2,
};

const key = (i: number): string => `nk${String(i).padStart(4, "0")}`;
const value = (i: number): string => `nats-value-${i}`;

/** PUT until acknowledged (a 503 during an election is retried, at most 20 times). */
async function put(port: number, k: string, v: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(`http://127.0.0.1:${port}/kv/${k}`, {
      method: "PUT",
      body: v,
      signal: AbortSignal.timeout(15_000),
    });
    await r.body?.cancel();
    if (r.status !== 503 || attempt >= 20) return r.status;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Keys among `indexes` that `port` does not return with the acknowledged value. */
async function missing(
  port: number,
  indexes: readonly number[],
  linearizable: boolean,
): Promise<string[]> {
  const results = await mapConcurrent(indexes, 16, async (i) => {
    const r = await fetch(
      `http://127.0.0.1:${port}/kv/${key(i)}${linearizable ? "?linearizable" : ""}`,
      { signal: AbortSignal.timeout(5_000) },
    );
    const text = await r.text();
    return r.status === 200 && text === value(i) ? undefined : key(i);
  });
  return results.filter((k): k is string => k !== undefined);
}

describe("node-server cluster over the NATS fabric (3 real processes, one nats-server)", () => {
  let nats: NatsServerProcess;
  let cluster: ProcessCluster;
  let leader: string;
  const acknowledged: number[] = [];

  beforeAll(async () => {
    nats = await startNatsServer(LIMITS);
    cluster = await ProcessCluster.create({
      size: 3,
      natsServers: [`nats://127.0.0.1:${nats.port}`],
    });
    cluster.startAll();
  });

  afterAll(async () => {
    await cluster?.stopAll();
    await nats?.stop();
  });

  it("elects a leader and says on /varz that it runs over NATS", async () => {
    leader = await cluster.waitForLeader(20_000);
    const varz = (await cluster.json(leader, "/varz")).body;
    expect(varz["listen"]).toBeNull();
    expect(varz["routes"]).toEqual([]);
    expect(varz["fabric"]).toMatchObject({
      kind: "nats",
      connected: true,
      connections: 1,
      maxPayload: LIMITS.maxPayload,
    });
    expect((varz["fabric"] as Record<string, number>)["messagesIn"]).toBeGreaterThan(0);
  });

  it("acknowledges 100 writes on the leader", async () => {
    const port = cluster.node(leader).httpPort;
    const indexes = Array.from({ length: WRITES }, (_, i) => i);
    const statuses = await mapConcurrent(indexes, 16, (i) => put(port, key(i), value(i)));
    for (const [i, status] of statuses.entries()) if (status === 200) acknowledged.push(i);
    expect(acknowledged).toHaveLength(WRITES);
  });

  it("bridges client pub/sub between nodes over NATS", async () => {
    const [n1, n2] = cluster.nodes;
    if (n1 === undefined || n2 === undefined) throw new Error("two nodes expected");
    const sub = await connect({ servers: `127.0.0.1:${n1.clientPort}`, reconnect: false });
    const pub = await connect({ servers: `127.0.0.1:${n2.clientPort}`, reconnect: false });
    try {
      const got: string[] = [];
      sub.subscribe("orders.>", {
        callback: (_e, m) => {
          got.push(m.string());
        },
      });
      await sub.flush();
      // The interest travels over the fabric; publish until it has arrived (bounded).
      let i = 0;
      await waitFor(
        "a bridged message",
        () => {
          pub.publish("orders.new", `o-${i++}`);
          return got.length > 0 ? true : undefined;
        },
        5_000,
        50,
      );
      expect(got[0]).toMatch(/^o-\d+$/);
    } finally {
      await sub.close();
      await pub.close();
    }
  });

  it("elects a new leader after SIGKILL of the leader; every acknowledged write stays readable", async () => {
    const killed = leader;
    await cluster.kill(killed, "SIGKILL");
    leader = await cluster.waitForLeader(20_000);
    expect(leader).not.toBe(killed);
    expect(await missing(cluster.node(leader).httpPort, acknowledged, true)).toEqual([]);
    for (const n of cluster.live()) {
      expect(await missing(n.httpPort, acknowledged, true)).toEqual([]);
    }

    // The killed node restarts and catches up.
    expect(await put(cluster.node(leader).httpPort, "after-kill", "yes")).toBe(200);
    cluster.start(killed);
    const back = cluster.node(killed);
    await waitFor(
      `${killed} to catch up`,
      async () => {
        const m = await missing(back.httpPort, acknowledged, false);
        const r = await fetch(`http://127.0.0.1:${back.httpPort}/kv/after-kill`, {
          signal: AbortSignal.timeout(2_000),
        });
        return m.length === 0 && (await r.text()) === "yes" ? true : undefined;
      },
      20_000,
      250,
    );
    expect((await cluster.kvStatus(killed)).leaderId).toBe((await cluster.kvStatus(leader)).id);
  });

  it("keeps committing after the nats-server is killed and restarted on the same port", async () => {
    const port = nats.port;
    nats.child.kill("SIGKILL");
    await nats.stop();
    nats = await startNatsServer(LIMITS, { port });
    const status = await waitFor(
      "a write acknowledged after the NATS restart",
      async () => {
        const leaderNow = await cluster.waitForLeader(5_000);
        const s = await put(cluster.node(leaderNow).httpPort, "after-nats-restart", "ok");
        return s === 200 ? s : undefined;
      },
      30_000,
      250,
    );
    expect(status).toBe(200);
    leader = await cluster.waitForLeader(10_000);
    for (const n of cluster.live()) {
      const varz = (await cluster.json(n.name, "/varz")).body;
      expect(varz["fabric"]).toMatchObject({ kind: "nats", connected: true, reconnects: 1 });
    }
    expect(await missing(cluster.node(leader).httpPort, acknowledged, true)).toEqual([]);
  });
});

describe("node-server with an unreachable NATS fabric", () => {
  it("exits 1 at start, naming the NATS servers it could not reach", async () => {
    const dir = await mkdtemp(join(tmpdir(), "node-server-nats-down-"));
    try {
      // A port that was free a moment ago: nothing accepts connections there.
      const [natsPort, httpPort] = await freePorts(2);
      const file = join(dir, "n1.json");
      await writeFile(
        file,
        JSON.stringify({
          serverName: "n1",
          nats: { servers: [`127.0.0.1:${natsPort}`], connectTimeoutMs: 1_000 },
          http: `127.0.0.1:${httpPort}`,
          client: { port: 0 },
          dataDir: join(dir, "n1"),
        }),
      );
      const lines: string[] = [];
      const child = spawnNodeServer(["--config", file], lines);
      expect(await waitForExit(child, 15_000)).toBe(1);
      const failed = parseLogLines(lines).find((l) => l["msg"] === "start failed");
      expect(JSON.stringify(failed)).toContain(`cannot connect to NATS at 127.0.0.1:${natsPort}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
