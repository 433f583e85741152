import { RaftState } from "@raft/core";
import { afterEach, describe, expect, it } from "vitest";
import { testSeed, VirtualCluster } from "../helpers/virtual-cluster";

describe("RaftServer replication", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("elects one leader among three servers", async () => {
    cluster = new VirtualCluster({ seed: testSeed(1) });
    await cluster.start();
    const leader = await cluster.electLeader();
    const leaders = cluster.members.filter((m) => m.group.state() === RaftState.Leader);
    expect(leaders.map((m) => m.name)).toEqual([leader.name]);
    for (const m of cluster.members) {
      await cluster.runUntil(() => m.group.leaderId() === leader.id, 5000, "leader known");
    }
  });

  it("applies 1,000 proposals in the same order on every server", async () => {
    cluster = new VirtualCluster({ seed: testSeed(2) });
    await cluster.start();
    const leader = await cluster.electLeader();
    const results: Promise<number>[] = [];
    for (let i = 0; i < 1000; i++) results.push(leader.group.propose({ value: i }));
    let settled = 0;
    for (const r of results) void r.then(() => settled++);
    await cluster.runUntil(() => settled === 1000, 60_000, "1000 proposals applied");
    const values = await Promise.all(results);
    // Each proposal resolves with the list length right after its own command: a permutation of
    // 1..1000 whose order matches the applied order.
    expect(new Set(values).size).toBe(1000);
    const expected = leader.sm.values;
    expect(expected).toHaveLength(1000);
    for (let i = 0; i < 1000; i++) expect(expected[(values[i] as number) - 1]).toBe(i);
    for (const m of cluster.members) {
      await cluster.runUntil(() => m.sm.values.length === 1000, 10_000, `${m.name} caught up`);
      expect(m.sm.values).toEqual(expected);
    }
    const status = leader.group.status();
    expect(status.isLeader).toBe(true);
    expect(status.applied).toBeGreaterThan(0);
    expect(status.queues.pendingProposals).toBe(0);
    expect(status.wal.syncs).toBeGreaterThan(0);
    // Proposals are batched: far fewer records than proposals.
    expect(status.wal.records).toBeLessThan(1000);
  });

  it("keeps every server's order identical under loss, duplication, reordering and delay", async () => {
    const seed = testSeed(21);
    cluster = new VirtualCluster({ seed });
    await cluster.start();
    cluster.network.setFaults({
      dropProbability: 0.1,
      duplicateProbability: 0.1,
      reorderProbability: 0.1,
      reorderDelayMs: 5,
      delayMs: [1, 8],
    });
    const acked = new Set<number>();
    let next = 0;
    for (let round = 0; round < 10; round++) {
      const leader = await cluster.electLeader();
      const batch = Array.from({ length: 30 }, () => {
        const v = next++;
        return leader.group.propose({ value: v }).then(
          () => acked.add(v),
          () => undefined,
        );
      });
      await cluster.outcome(Promise.all(batch), 30_000, `round ${round}`);
    }
    expect(acked.size, `SEED=${seed}`).toBeGreaterThan(150);
    cluster.network.clearFaults();
    const leader = await cluster.electLeader();
    await cluster.outcome(leader.group.propose({ value: -1 }), 10_000, "final");
    await cluster.runUntil(
      () => cluster?.members.every((m) => m.sm.values.length === leader.sm.values.length) ?? false,
      10_000,
      "converged",
    );
    for (const m of cluster.members) expect(m.sm.values, `SEED=${seed}`).toEqual(leader.sm.values);
    const applied = new Set(leader.sm.values);
    for (const v of acked) expect(applied.has(v), `value ${v}, SEED=${seed}`).toBe(true);
    // Each value is applied at most once (no duplicate application of a duplicated frame).
    expect(applied.size).toBe(leader.sm.values.length);
  });
});
