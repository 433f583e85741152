import { openGroupStore } from "@raft/wal";
import { createFaultyDisk, type FaultyDisk } from "@raft/wal/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { ServerError } from "../../src/index";
import { type Member, testSeed, VirtualCluster } from "../helpers/virtual-cluster";

function faultyCluster(
  seed: number,
  snapshotEntries?: number,
): { cluster: VirtualCluster; disks: Map<string, FaultyDisk> } {
  const disks = new Map<string, FaultyDisk>();
  const cluster = new VirtualCluster({
    seed,
    ...(snapshotEntries === undefined ? {} : { snapshotPolicy: { entries: snapshotEntries } }),
    diskFor: (name) => {
      const disk = disks.get(name) ?? createFaultyDisk({ seed });
      disks.set(name, disk);
      return disk;
    },
  });
  return { cluster, disks };
}

async function commit(c: VirtualCluster, leader: Member, from: number, to: number): Promise<void> {
  for (let v = from; v < to; v++) {
    const r = await c.outcome(leader.group.propose({ value: v }), 5000, `propose ${v}`);
    expect(r.ok).toBe(true);
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe("RaftGroup.reset", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("wipes a follower's log, snapshots, term and vote, then rejoins and gets the history again", async () => {
    const setup = faultyCluster(testSeed(81), 8);
    cluster = setup.cluster;
    const c = setup.cluster;
    await c.start();
    const leader = await c.electLeader();
    await commit(c, leader, 0, 12);
    const victim = c.members.find((m) => m !== leader) as Member;
    await c.runUntil(() => victim.sm.values.length === 12, 5000, "victim applied");
    expect(victim.group.status().snapshot.index).toBeGreaterThan(0);
    const termBefore = victim.group.term();

    const wiped = await c.outcome(victim.group.reset(), 5000, "reset");
    expect(wiped.ok).toBe(true);
    // Rejoined: same leader, same term, the whole history applied once (not on top of the old
    // state), while the group goes on committing.
    await commit(c, leader, 12, 15);
    await c.runUntil(() => victim.sm.values.length === 15, 10_000, "victim rejoined");
    expect(victim.sm.values).toEqual(range(15));
    expect(victim.group.term()).toBe(termBefore);
    expect(victim.group.leaderId()).toBe(leader.id);
    expect(victim.group.peerNames().length).toBe(3);
    expect(victim.group.error()).toBeUndefined();
    await c.runUntil(() => !victim.group.status().observer, 5000, "victim campaigns again");

    // Durable: a restart recovers the rejoined state, and no wipe is left half done.
    await c.stop(victim);
    const disk = setup.disks.get(victim.name) as FaultyDisk;
    expect(await disk.exists(`/data/${victim.name}/${c.group}/reset.pending`)).toBe(false);
    expect(await disk.exists(`/data/${victim.name}/${c.group}/rejoin.pending`)).toBe(false);
    await c.restart(victim);
    // The adopted membership was written back: the restart starts from all three members.
    expect(victim.group.peerNames().length).toBe(3);
    expect(victim.group.status().observer).toBe(false);
    await commit(c, leader, 15, 16);
    await c.runUntil(() => victim.sm.values.length === 16, 10_000, "victim after restart");
    expect(victim.sm.values).toEqual(range(16));
  });

  it("puts the store back to empty: first index 1, term 0, this node alone, no snapshot", async () => {
    const setup = faultyCluster(testSeed(82), 5);
    cluster = setup.cluster;
    const c = setup.cluster;
    await c.start();
    const leader = await c.electLeader();
    await commit(c, leader, 0, 8);
    const victim = c.members.find((m) => m !== leader) as Member;
    await c.runUntil(() => victim.sm.values.length === 8, 5000, "victim applied");
    // Cut the victim off so that nothing refills its store after the wipe.
    c.network.partition([[victim.name], c.names().filter((n) => n !== victim.name)]);
    expect((await c.outcome(victim.group.reset(), 5000, "reset")).ok).toBe(true);
    expect(victim.sm.values).toEqual([]);
    expect(victim.group.status().wal.lastIndex).toBe(0);
    expect(victim.group.status().snapshot.index).toBe(0);
    await c.stop(victim);
    const disk = setup.disks.get(victim.name) as FaultyDisk;
    const store = await openGroupStore(`/data/${victim.name}/${c.group}`, { disk });
    try {
      expect(store.firstIndex).toBe(1);
      expect(store.termVote.term).toBeLessThanOrEqual(1);
      expect(store.snapshotMeta).toBeUndefined();
      expect(store.peerState).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it("keeps a reset server cut off from its group from electing itself, across restarts, until it rejoins", async () => {
    const setup = faultyCluster(testSeed(84));
    cluster = setup.cluster;
    const c = setup.cluster;
    await c.start();
    const leader = await c.electLeader();
    await commit(c, leader, 0, 4);
    const victim = c.members.find((m) => m !== leader) as Member;
    await c.runUntil(() => victim.sm.values.length === 4, 5000, "victim applied");
    const others = c.names().filter((n) => n !== victim.name);
    c.network.partition([[victim.name], others]);
    expect((await c.outcome(victim.group.reset(), 5000, "reset")).ok).toBe(true);
    // Core's reset leaves it alone in a group of one: without the driver's guard it elects
    // itself within one election timeout and commits on its own.
    const selfLed: string[] = [];
    victim.group.onLeadChange((e) => {
      if (e.isLeader) selfLed.push(`term ${e.term}`);
    });
    await c.runFor(5000);
    expect(selfLed).toEqual([]);
    expect(victim.group.state()).toBe("follower");
    expect(victim.group.status().observer).toBe(true);
    const dir = `/data/${victim.name}/${c.group}`;
    const disk = setup.disks.get(victim.name) as FaultyDisk;
    expect(await disk.exists(`${dir}/rejoin.pending`)).toBe(true);

    // A restart starts from the single-member peer state on disk; the mark keeps it passive.
    await c.stop(victim);
    await c.restart(victim);
    c.network.partition([[victim.name], others]);
    await c.runFor(5000);
    expect(victim.group.state()).toBe("follower");
    expect(victim.group.status().observer).toBe(true);

    c.network.heal();
    await commit(c, leader, 4, 6);
    await c.runUntil(
      () => victim.sm.values.length === 6 && !victim.group.status().observer,
      10_000,
      "victim rejoined",
    );
    expect(victim.sm.values).toEqual(range(6));
    expect(victim.group.peerNames().length).toBe(3);
    expect(await disk.exists(`${dir}/rejoin.pending`)).toBe(false);
  });

  it("finishes a wipe interrupted by a disk failure at the next start", async () => {
    const setup = faultyCluster(testSeed(83));
    cluster = setup.cluster;
    const c = setup.cluster;
    await c.start();
    const leader = await c.electLeader();
    await commit(c, leader, 0, 6);
    const victim = c.members.find((m) => m !== leader) as Member;
    await c.runUntil(() => victim.sm.values.length === 6, 5000, "victim applied");
    const disk = setup.disks.get(victim.name) as FaultyDisk;
    // The wipe dies half way: after its marker, while deleting the log.
    disk.failNext("EIO", "unlink");
    const r = await c.outcome(victim.group.reset(), 5000, "failed reset");
    expect(r.ok).toBe(false);
    expect(((r as { error: unknown }).error as ServerError).code).toBe("CLOSED");
    expect((victim.group.error() as ServerError).code).toBe("STORAGE");
    const dir = `/data/${victim.name}/${c.group}`;
    expect(await disk.exists(`${dir}/reset.pending`)).toBe(true);

    await c.stop(victim);
    await c.restart(victim);
    expect(victim.logs.some((l) => l.includes("finishing a reset interrupted"))).toBe(true);
    expect(await disk.exists(`${dir}/reset.pending`)).toBe(false);
    await commit(c, leader, 6, 8);
    await c.runUntil(() => victim.sm.values.length === 8, 10_000, "victim rejoined");
    expect(victim.sm.values).toEqual(range(8));
  });
});
