import { createFaultyDisk, type FaultyDisk } from "@raft/wal/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ServerError } from "../../src/index";
import { type Member, testSeed, VirtualCluster } from "../helpers/virtual-cluster";

describe("RaftServer on a failing disk", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("stops a group whose WAL write fails, rejecting its proposals, while the others go on", async () => {
    const disks = new Map<string, FaultyDisk>();
    cluster = new VirtualCluster({
      seed: testSeed(20),
      diskFor: (name) => {
        const disk = createFaultyDisk({ seed: 1 });
        disks.set(name, disk);
        return disk;
      },
    });
    await cluster.start();
    const leader = await cluster.electLeader();
    (disks.get(leader.name) as FaultyDisk).failNext("EIO", "write");
    const r = await cluster.outcome(leader.group.propose({ value: 1 }), 5000, "failing write");
    expect(r.ok).toBe(false);
    const e = (r as { error: unknown }).error as ServerError;
    expect(e).toBeInstanceOf(ServerError);
    expect(e.code).toBe("CLOSED");
    expect((e.cause as ServerError).code).toBe("STORAGE");
    expect(leader.group.state()).toBe("closed");
    expect(leader.server.numRaftNodes()).toBe(0);
    // The two others elect a new leader and keep serving.
    const next = await cluster.electLeader();
    expect(next.name).not.toBe(leader.name);
    const ok = await cluster.outcome(next.group.propose({ value: 2 }), 5000, "after failure");
    expect(ok.ok).toBe(true);
  });

  it("refuses to start a group whose term/vote file was destroyed", async () => {
    const disks = new Map<string, FaultyDisk>();
    cluster = new VirtualCluster({
      seed: testSeed(24),
      diskFor: (name) => {
        const disk = disks.get(name) ?? createFaultyDisk({ seed: 2 });
        disks.set(name, disk);
        return disk;
      },
    });
    await cluster.start();
    const leader = await cluster.electLeader();
    expect((await cluster.outcome(leader.group.propose({ value: 1 }), 5000, "p")).ok).toBe(true);
    const victim = cluster.members.find((m) => m !== leader) as Member;
    await cluster.runUntil(() => victim.sm.values.length === 1, 5000, "victim applied");
    await cluster.stop(victim);
    const disk = disks.get(victim.name) as FaultyDisk;
    const dir = `/data/${victim.name}/${cluster.group}`;
    // Rot both copies: the vote this server cast is gone.
    disk.flipBit(`${dir}/tav.a`, 20);
    disk.flipBit(`${dir}/tav.b`, 20);
    const e = await cluster.restart(victim).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(e).toBeInstanceOf(ServerError);
    expect((e as ServerError).code).toBe("STORAGE");
    expect((e as ServerError).message).toMatch(/term\/vote file is damaged/);
  });

  it("refuses to start a group whose newest snapshot is damaged when an older one leaves a gap before the log", async () => {
    // Simulator seed 3256: the WAL fell back to an older snapshot (its deletion had not become
    // durable before a power loss) while the log was compacted by the damaged newer one. Core drops
    // every stored record after such a gap, so the node forgot entries it had acknowledged and
    // voted for a leader that overwrote a committed entry.
    const disks = new Map<string, FaultyDisk>();
    cluster = new VirtualCluster({
      seed: testSeed(25),
      diskFor: (name) => {
        const disk = disks.get(name) ?? createFaultyDisk({ seed: 3 });
        disks.set(name, disk);
        return disk;
      },
    });
    await cluster.start();
    const leader = await cluster.electLeader();
    const victim = cluster.members.find((m) => m !== leader) as Member;
    const disk = disks.get(victim.name) as FaultyDisk;
    const snapDir = `/data/${victim.name}/${cluster.group}/snapshots`;
    const proposeMany = async (from: number): Promise<void> => {
      for (let v = from; v < from + 10; v++) {
        const r = await cluster?.outcome(leader.group.propose({ value: v }), 5000, `p${v}`);
        expect(r?.ok).toBe(true);
      }
      await cluster?.runUntil(() => victim.sm.values.length === from + 10, 5000, "victim applied");
    };
    await proposeMany(0);
    await cluster.outcome(victim.group.snapshot(), 5000, "older snapshot");
    const [older] = await disk.list(snapDir);
    const olderBytes = disk.peek(`${snapDir}/${older}`) as Uint8Array;
    await proposeMany(10);
    await cluster.outcome(victim.group.snapshot(), 5000, "newer snapshot");
    const compactedFrom = victim.group.status().wal.firstIndex;
    const [newer] = await disk.list(snapDir);
    expect(newer).not.toBe(older);
    await cluster.stop(victim);
    // The older snapshot is back (a deletion that never became durable) and verifies; the newer
    // one rots. The log starts after the newer one, so the older one leaves a gap.
    const file = await disk.open(`${snapDir}/${older}`, "create");
    await file.write(olderBytes, 0);
    await file.datasync();
    await file.close();
    await disk.syncDir(snapDir);
    disk.flipBit(`${snapDir}/${newer}`, 40);
    const e = await cluster.restart(victim).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(e).toBeInstanceOf(ServerError);
    expect((e as ServerError).code).toBe("STORAGE");
    expect((e as ServerError).message).toMatch(
      new RegExp(`snapshot is damaged .* log before index ${compactedFrom} is compacted`),
    );
  });
});
