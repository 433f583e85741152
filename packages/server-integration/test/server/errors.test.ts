import { afterEach, describe, expect, it } from "vitest";
import { ServerError } from "../../src/index";
import { type Member, testSeed, VirtualCluster } from "../helpers/virtual-cluster";

function serverError(outcome: { ok: boolean; error?: unknown }): ServerError {
  expect(outcome.ok).toBe(false);
  expect(outcome.error).toBeInstanceOf(ServerError);
  return outcome.error as ServerError;
}

describe("RaftGroup.propose errors", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("rejects on a follower with NOT_LEADER carrying the leader's id and server name", async () => {
    cluster = new VirtualCluster({ seed: testSeed(5) });
    await cluster.start();
    const leader = await cluster.electLeader();
    const follower = cluster.members.find((m) => m !== leader) as Member;
    await cluster.runUntil(() => follower.group.leaderId() === leader.id, 5000, "leader known");
    const e = serverError(
      await cluster.outcome(follower.group.propose({ value: 1 }), 1000, "reject"),
    );
    expect(e.code).toBe("NOT_LEADER");
    expect(e.leaderId).toBe(leader.id);
    expect(e.leaderServerName).toBe(leader.name);
    expect(follower.server.serverNameForNode(leader.id)).toBe(leader.name);
    expect(follower.server.clusterNameForNode(leader.id)).toBe("test");
  });

  it("rejects beyond pendingProposalsMax with OVERLOADED and accepts again once drained", async () => {
    cluster = new VirtualCluster({ seed: testSeed(6), limits: { pendingProposalsMax: 10 } });
    await cluster.start();
    const leader = await cluster.electLeader();
    const accepted = Array.from({ length: 10 }, (_, i) => leader.group.propose({ value: i }));
    const over = await cluster.outcome(leader.group.propose({ value: 99 }), 1000, "overload");
    expect(serverError(over).code).toBe("OVERLOADED");
    await cluster.outcome(Promise.all(accepted), 10_000, "accepted applied");
    expect(leader.group.status().queues.proposalsRejected).toBe(1);
    const again = await cluster.outcome(leader.group.propose({ value: 100 }), 10_000, "again");
    expect(again).toEqual({ ok: true, value: 11 });
  });

  it("rejects a command larger than proposalBytesMax with OVERLOADED", async () => {
    cluster = new VirtualCluster({ seed: testSeed(7), limits: { proposalBytesMax: 64 } });
    await cluster.start();
    const leader = await cluster.electLeader();
    const big = { value: 1, pad: "x".repeat(100) };
    const e = serverError(await cluster.outcome(leader.group.propose(big), 1000, "too big"));
    expect(e.code).toBe("OVERLOADED");
  });

  it("rejects a command that is not MessagePack-encodable with INVALID_ARGUMENT", async () => {
    cluster = new VirtualCluster({ seed: testSeed(8) });
    await cluster.start();
    const leader = await cluster.electLeader();
    const cyclic: { value: number; self?: unknown } = { value: 1 };
    cyclic.self = cyclic;
    const e = serverError(await cluster.outcome(leader.group.propose(cyclic), 1000, "cyclic"));
    expect(e.code).toBe("INVALID_ARGUMENT");
  });

  it("rejects with TIMEOUT when the leader is cut off from its followers", async () => {
    cluster = new VirtualCluster({ seed: testSeed(9), limits: { proposalTimeoutMs: 300 } });
    await cluster.start();
    const leader = await cluster.electLeader();
    cluster.network.partition([
      [leader.name],
      cluster.members.filter((m) => m !== leader).map((m) => m.name),
    ]);
    const e = serverError(
      await cluster.outcome(leader.group.propose({ value: 1 }), 5000, "timeout"),
    );
    // Lost quorum is detected after 1 s; the 300 ms proposal timeout fires first.
    expect(e.code).toBe("TIMEOUT");
  });

  it("rejects a proposal cut off by a leader change with NOT_LEADER, and it is never applied", async () => {
    cluster = new VirtualCluster({ seed: testSeed(10) });
    await cluster.start();
    const leader = await cluster.electLeader();
    const others = cluster.members.filter((m) => m !== leader);
    cluster.network.partition([[leader.name], others.map((m) => m.name)]);
    const pending = leader.group.propose({ value: 7 }).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    // Let the loop hand it to core (appended in the old leader's log only), then step down.
    await cluster.settle();
    const stepped = await cluster.outcome(leader.group.stepDown(), 1000, "step down");
    expect(stepped).toEqual({ ok: true, value: true });
    // Still pending: losing leadership alone does not decide the outcome.
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await cluster.settle();
    expect(settled).toBe(false);
    await cluster.runUntil(() => others.some((m) => m.group.isLeader()), 10_000, "new leader");
    cluster.network.heal();
    const next = others.find((m) => m.group.isLeader()) as Member;
    expect(await cluster.outcome(next.group.propose({ value: 8 }), 5000, "next")).toMatchObject({
      ok: true,
    });
    const result = await cluster.outcome(pending, 5000, "pending settled");
    const e = serverError(result.ok ? result.value : result);
    expect(e.code).toBe("NOT_LEADER");
    await cluster.runUntil(
      () => cluster?.members.every((m) => m.sm.values.includes(8)) ?? false,
      5000,
      "8 applied everywhere",
    );
    for (const m of cluster.members) expect(m.sm.values).not.toContain(7);
  });

  it("rejects with CLOSED after the group stopped", async () => {
    cluster = new VirtualCluster({ seed: testSeed(11) });
    await cluster.start();
    const leader = await cluster.electLeader();
    await leader.group.stop();
    expect(leader.server.numRaftNodes()).toBe(0);
    const e = serverError(
      await cluster.outcome(leader.group.propose({ value: 1 }), 1000, "closed"),
    );
    expect(e.code).toBe("CLOSED");
  });
});
