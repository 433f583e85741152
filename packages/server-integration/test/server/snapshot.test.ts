import { afterEach, describe, expect, it } from "vitest";
import { type Member, testSeed, VirtualCluster } from "../helpers/virtual-cluster";

describe("RaftServer snapshots", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("takes snapshots by entry policy and restores from the newest on restart", async () => {
    cluster = new VirtualCluster({ seed: testSeed(15), snapshotPolicy: { entries: 50 } });
    await cluster.start();
    const leader = await cluster.electLeader();
    // One at a time, so that every proposal occupies its own index.
    for (let v = 0; v < 130; v++) {
      const r = await cluster.outcome(leader.group.propose({ value: v }), 5000, `propose ${v}`);
      expect(r.ok).toBe(true);
    }
    const follower = cluster.members.find((m) => m !== leader) as Member;
    await cluster.runUntil(() => follower.sm.values.length === 130, 5000, "follower applied");
    const snap = follower.group.status().snapshot;
    expect(snap.taken).toBeGreaterThanOrEqual(2);
    expect(snap.index).toBeGreaterThanOrEqual(100);
    expect(snap.compacting).toBe(true);
    // The log was compacted up to the snapshot.
    expect(follower.group.status().wal.firstIndex).toBe(snap.index + 1);

    await cluster.stop(follower);
    await cluster.restart(follower);
    // Restored from the snapshot, then replayed from the log after it.
    expect(follower.sm.values.length).toBeGreaterThanOrEqual(snap.index - 2);
    await cluster.runUntil(() => follower.sm.values.length === 130, 5000, "caught up");
    expect(follower.sm.values).toEqual(leader.sm.values);
    // Only the entries after the snapshot were applied again.
    expect(follower.sm.indexes.length).toBeGreaterThan(0);
    for (const index of follower.sm.indexes) expect(index).toBeGreaterThan(snap.index);
  });

  it("catches up a server restarted after its peers compacted past its log, from a snapshot", async () => {
    cluster = new VirtualCluster({ seed: testSeed(17), snapshotPolicy: { entries: 20 } });
    await cluster.start();
    const leader = await cluster.electLeader();
    const lagging = cluster.members.find((m) => m !== leader) as Member;
    for (let v = 0; v < 10; v++) {
      expect((await cluster.outcome(leader.group.propose({ value: v }), 5000, "p")).ok).toBe(true);
    }
    await cluster.runUntil(() => lagging.sm.values.length === 10, 5000, "lagging applied 10");
    await cluster.stop(lagging);
    for (let v = 10; v < 100; v++) {
      expect((await cluster.outcome(leader.group.propose({ value: v }), 5000, "p")).ok).toBe(true);
    }
    const leaderWal = leader.group.status().wal;
    expect(leaderWal.firstIndex).toBeGreaterThan(20);
    await cluster.restart(lagging);
    await cluster.runUntil(() => lagging.sm.values.length === 100, 10_000, "caught up");
    expect(lagging.sm.values).toEqual(leader.sm.values);
    // It got there through a snapshot: it never applied the entries the leader compacted away.
    expect(Math.min(...lagging.sm.indexes)).toBeGreaterThan(leaderWal.firstIndex - 1);
  });

  it("takes a snapshot on request and by byte policy", async () => {
    cluster = new VirtualCluster({ seed: testSeed(16), snapshotPolicy: { bytes: 4096 } });
    await cluster.start();
    const leader = await cluster.electLeader();
    const r = await cluster.outcome(leader.group.propose({ value: 1 }), 5000, "first");
    expect(r.ok).toBe(true);
    expect(leader.group.status().snapshot.taken).toBe(0);
    await cluster.outcome(leader.group.snapshot(), 5000, "manual snapshot");
    const afterManual = leader.group.status().snapshot;
    expect(afterManual.taken).toBe(1);
    expect(afterManual.index).toBe(leader.group.status().applied);
    const big = Array.from({ length: 20 }, (_, i) =>
      leader.group.propose({ value: 100 + i, pad: "p".repeat(400) } as { value: number }),
    );
    await cluster.outcome(Promise.all(big), 5000, "big");
    await cluster.runUntil(() => leader.group.status().snapshot.taken >= 2, 5000, "byte policy");
  });
});
