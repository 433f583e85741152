import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type KvStatus,
  mapConcurrent,
  ProcessCluster,
  parseLogLines,
  waitFor,
} from "./helpers/process-cluster";

interface WalStatus {
  readonly firstIndex: number;
  readonly lastIndex: number;
}

describe("node-server snapshot catchup (3 real processes)", () => {
  let cluster: ProcessCluster;

  beforeAll(async () => {
    cluster = await ProcessCluster.create({ size: 3, extra: { kv: { snapshotEntries: 10 } } });
    cluster.startAll();
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  it("catches up a node restarted after its peers compacted their logs, from a snapshot", async () => {
    const leader = await cluster.waitForLeader(20_000);
    const lagging = cluster.nodes.find((n) => n.name !== leader);
    if (lagging === undefined) throw new Error("no follower");
    await waitFor(
      `${lagging.name} replicating`,
      async () => ((await cluster.kvStatus(lagging.name)).applied > 0 ? true : undefined),
      10_000,
    );
    const lastBeforeKill = (await cluster.kvStatus(lagging.name)).lastIndex;
    await cluster.kill(lagging.name, "SIGKILL");

    const port = cluster.node(leader).httpPort;
    const keys = Array.from({ length: 300 }, (_, i) => `c${i}`);
    // Small concurrency: many log indexes, so the snapshot policy (every 10) fires often.
    const results = await mapConcurrent(keys, 4, async (k) => {
      const r = await fetch(`http://127.0.0.1:${port}/kv/${k}`, { method: "PUT", body: `v-${k}` });
      return r.status;
    });
    expect(results.every((s) => s === 200)).toBe(true);

    const { body } = await cluster.json(leader, "/raftz");
    const kv = (
      body["groups"] as Record<
        string,
        KvStatus & { wal: WalStatus; snapshot: { compacting: boolean } }
      >
    )["kv"];
    expect(kv?.snapshot.compacting).toBe(true);
    await waitFor(
      "the leader's log compacted past the stopped node's last index",
      async () => {
        const { body: b } = await cluster.json(leader, "/raftz");
        const s = (b["groups"] as Record<string, { wal: WalStatus }>)["kv"];
        return s !== undefined && s.wal.firstIndex > lastBeforeKill + 1 ? true : undefined;
      },
      10_000,
    );

    const mark = lagging.lines.length;
    cluster.start(lagging.name);
    const target = (await cluster.kvStatus(leader)).commit;
    await waitFor(
      `${lagging.name} applied up to ${target}`,
      async () => ((await cluster.kvStatus(lagging.name)).applied >= target ? true : undefined),
      20_000,
      200,
    );
    // It installed a snapshot newer than anything it had: one only the leader could send.
    const restored = parseLogLines(lagging.lines.slice(mark)).filter(
      (l) => l["msg"] === "state restored from snapshot" && (l["index"] as number) > lastBeforeKill,
    );
    expect(restored.length).toBeGreaterThan(0);
    const missing = await mapConcurrent(keys, 32, async (k) => {
      const r = await fetch(`http://127.0.0.1:${lagging.httpPort}/kv/${k}`);
      return r.status === 200 && (await r.text()) === `v-${k}` ? undefined : k;
    });
    expect(missing.filter((k) => k !== undefined)).toEqual([]);
  });
});
