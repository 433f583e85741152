import { afterEach, describe, expect, it } from "vitest";
import type { ServerError } from "../../src/index";
import { type Member, testSeed, VirtualCluster } from "../helpers/virtual-cluster";

describe("RaftGroup.readBarrier", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("resolves on the leader once everything committed before it is applied", async () => {
    cluster = new VirtualCluster({ seed: testSeed(18) });
    await cluster.start();
    const leader = await cluster.electLeader();
    const writes = Array.from({ length: 20 }, (_, i) => leader.group.propose({ value: i }));
    await cluster.outcome(Promise.all(writes), 5000, "writes");
    const r = await cluster.outcome(leader.group.readBarrier(), 5000, "read");
    expect(r.ok).toBe(true);
    expect(r.ok && r.value).toBeGreaterThanOrEqual(leader.group.status().commit);
    expect(leader.sm.values).toHaveLength(20);
  });

  it("rejects on a follower and on a leader cut off from its quorum", async () => {
    cluster = new VirtualCluster({ seed: testSeed(19), limits: { proposalTimeoutMs: 500 } });
    await cluster.start();
    const leader = await cluster.electLeader();
    const follower = cluster.members.find((m) => m !== leader) as Member;
    const onFollower = await cluster.outcome(follower.group.readBarrier(), 1000, "follower read");
    expect(onFollower.ok).toBe(false);
    expect(!onFollower.ok && (onFollower.error as ServerError).code).toBe("NOT_LEADER");
    const others = cluster.members.filter((m) => m !== leader).map((m) => m.name);
    cluster.network.partition([[leader.name], others]);
    const cut = await cluster.outcome(leader.group.readBarrier(), 5000, "isolated read");
    expect(cut.ok).toBe(false);
    expect(["NOT_LEADER", "TIMEOUT"]).toContain(!cut.ok && (cut.error as ServerError).code);
  });
});
