import { WalError } from "@raft/wal";
import { createFaultyDisk, type FaultyDisk } from "@raft/wal/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ServerError } from "../../src/index";
import { ListStateMachine } from "../helpers/log-state-machine";
import { type Member, testSeed, VirtualCluster } from "../helpers/virtual-cluster";

function faultyCluster(seed: number): { cluster: VirtualCluster; disks: Map<string, FaultyDisk> } {
  const disks = new Map<string, FaultyDisk>();
  const cluster = new VirtualCluster({
    seed,
    diskFor: (name) => {
      const disk = disks.get(name) ?? createFaultyDisk({ seed });
      disks.set(name, disk);
      return disk;
    },
  });
  return { cluster, disks };
}

/** The sticky error of a stopped group: `STORAGE` caused by the WAL's `IO` error. */
function expectStorageFailure(member: Member): void {
  const error = member.group.error();
  expect(error).toBeInstanceOf(ServerError);
  expect((error as ServerError).code).toBe("STORAGE");
  expect((error as ServerError).cause).toBeInstanceOf(WalError);
  expect(((error as ServerError).cause as WalError).code).toBe("IO");
}

describe("RaftServer on a WAL write error", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("closes a follower's group with a sticky error when its append fails; the rest go on", async () => {
    const setup = faultyCluster(testSeed(71));
    cluster = setup.cluster;
    const c = setup.cluster;
    await c.start();
    const leader = await c.electLeader();
    expect((await c.outcome(leader.group.propose({ value: 0 }), 5000, "first")).ok).toBe(true);
    const [victim, other] = c.members.filter((m) => m !== leader) as [Member, Member];
    await c.runUntil(() => victim.sm.values.length === 1, 5000, "victim applied");
    expect(victim.group.error()).toBeUndefined();

    const disk = setup.disks.get(victim.name) as FaultyDisk;
    disk.failNext("EIO", "write");
    expect((await c.outcome(leader.group.propose({ value: 1 }), 5000, "second")).ok).toBe(true);
    await c.runUntil(() => victim.group.state() === "closed", 5000, "victim group closed");
    expectStorageFailure(victim);
    // Never retried: once the write failed, nothing more touches that disk.
    const mutations = disk.mutations;

    // Everything on the stopped group fails with CLOSED, caused by the sticky error.
    const rejected = await c.outcome(victim.group.propose({ value: 9 }), 1000, "after close");
    expect(rejected.ok).toBe(false);
    const e = (rejected as { error: unknown }).error as ServerError;
    expect(e.code).toBe("CLOSED");
    expect(e.cause).toBe(victim.group.error());
    expect(victim.server.numRaftNodes()).toBe(0);

    // The leader and the other follower keep committing.
    for (let v = 2; v < 6; v++) {
      expect((await c.outcome(leader.group.propose({ value: v }), 5000, `propose ${v}`)).ok).toBe(
        true,
      );
    }
    await c.runUntil(() => other.sm.values.length === 6, 5000, "other follower applied");
    expect(other.sm.values).toEqual([0, 1, 2, 3, 4, 5]);
    expect(victim.sm.values).toEqual([0]);
    expect(disk.mutations).toBe(mutations);

    // The server itself is still up: it can host another group on the same (working) disk.
    const g2 = {
      group: "G2",
      stateMachine: new ListStateMachine(),
    };
    await victim.server.bootstrapRaftNode(g2, [victim.id], true);
    const solo = await victim.server.startRaftNode(g2);
    await c.runUntil(() => solo.isLeader(), 5000, "second group on the same server leads");
    expect((await c.outcome(solo.propose({ value: 1 }), 5000, "solo propose")).ok).toBe(true);
    expect(victim.server.numRaftNodes()).toBe(1);
  });

  it("rejects the leader's pending proposals when its fsync fails, and never retries the fsync", async () => {
    const setup = faultyCluster(testSeed(72));
    cluster = setup.cluster;
    const c = setup.cluster;
    await c.start();
    const leader = await c.electLeader();
    expect((await c.outcome(leader.group.propose({ value: 0 }), 5000, "first")).ok).toBe(true);
    const disk = setup.disks.get(leader.name) as FaultyDisk;
    disk.failNext("EIO", "datasync");
    const pending = [1, 2, 3].map((value) => leader.group.propose({ value }));
    const outcomes = await Promise.all(pending.map((p, i) => c.outcome(p, 5000, `pending ${i}`)));
    for (const r of outcomes) {
      expect(r.ok).toBe(false);
      const e = (r as { error: unknown }).error as ServerError;
      expect(e.code).toBe("CLOSED");
      expect((e.cause as ServerError).code).toBe("STORAGE");
    }
    expect(leader.group.state()).toBe("closed");
    expectStorageFailure(leader);
    const mutations = disk.mutations;

    const next = await c.electLeader();
    expect(next.name).not.toBe(leader.name);
    expect((await c.outcome(next.group.propose({ value: 4 }), 5000, "after")).ok).toBe(true);
    expect(disk.mutations).toBe(mutations);
  });
});
