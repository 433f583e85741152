import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseNodeConfig } from "../src/config";
import { isNatsFabric } from "../src/fabric/node-fabric";
import { createAppLogger } from "../src/logger";
import type { RunningNode } from "../src/node";
import { startNode } from "../src/node";
import type { InteropLimits, NatsServerProcess } from "./helpers/nats-server-process";
import { startNatsServer } from "./helpers/nats-server-process";
import { FAST_TIMING, waitFor } from "./helpers/process-cluster";

const LIMITS: InteropLimits = {
  maxPayload: 1024 * 1024,
  maxControlLine: 4096,
  maxPendingBytes: 64 * 1024 * 1024,
  maxConnections: 1000,
  pingIntervalMs: 120_000,
  maxPingsOut: 2,
};

const NAMES = ["r1", "r2", "r3"] as const;
const PROPOSALS = 50;

describe("RaftServer group of 3 over the NATS fabric (one process, real disks)", () => {
  let nats: NatsServerProcess;
  let dir: string;
  const nodes: RunningNode[] = [];

  beforeAll(async () => {
    nats = await startNatsServer(LIMITS);
    dir = await mkdtemp(join(tmpdir(), "node-server-nats-raft-"));
    // A subject prefix, so the whole Raft conversation runs under "clusterA." on NATS.
    for (const name of NAMES) {
      const parsed = parseNodeConfig({
        serverName: name,
        nats: {
          servers: [`127.0.0.1:${nats.port}`],
          subjectPrefix: "clusterA",
          reconnectWaitMs: 100,
        },
        http: "127.0.0.1:0",
        client: { port: 0 },
        dataDir: join(dir, name),
        logLevel: "fatal",
        timing: FAST_TIMING,
        peers: NAMES.filter((n) => n !== name).map((n) => ({ name: n })),
      });
      if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
      nodes.push(await startNode(parsed.config, createAppLogger("fatal", name)));
    }
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await nats?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("elects one leader and commits proposals on every member", async () => {
    for (const n of nodes) {
      expect(isNatsFabric(n.fabric)).toBe(true);
      expect(n.routes).toBeUndefined();
    }
    const leader = await waitFor(
      "one kv leader",
      () => {
        const leaders = nodes.filter((n) => n.kv.isLeader());
        return leaders.length === 1 ? leaders[0] : undefined;
      },
      15_000,
      50,
    );
    const leaderId = leader.kv.id;
    await waitFor(
      "every member to know the leader",
      () => (nodes.every((n) => n.kv.leaderId() === leaderId) ? true : undefined),
      10_000,
      50,
    );
    const value = (i: number): Uint8Array => new TextEncoder().encode(`v${i}`);
    const results = await Promise.all(
      Array.from({ length: PROPOSALS }, (_, i) =>
        leader.kv.propose({ op: "put", key: `key.${i}`, value: value(i) }),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const commit = leader.kv.status().commit;
    await waitFor(
      "every member to apply the proposals",
      () => (nodes.every((n) => n.kv.status().applied >= commit) ? true : undefined),
      10_000,
      50,
    );
    for (const n of nodes) {
      const m = n.fabric.metrics();
      expect(m.connections).toBe(1);
      expect(m.messagesIn).toBeGreaterThan(0);
      expect(m.messagesOut).toBeGreaterThan(0);
      expect(m.handlerErrors).toBe(0);
    }
  });
});
