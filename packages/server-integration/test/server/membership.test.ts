import { nodeIdFromServerName } from "@raft/codec";
import { createMemoryDisk } from "@raft/wal/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createRaftServer, type RaftServer, type ServerError } from "../../src/index";
import { type AppendCommand, ListStateMachine } from "../helpers/log-state-machine";
import { seededSource } from "../helpers/seeded-source";
import { FAST_TIMING, type Member, testSeed, VirtualCluster } from "../helpers/virtual-cluster";

describe("RaftGroup membership changes", () => {
  let cluster: VirtualCluster | undefined;
  let extra: RaftServer | undefined;
  afterEach(async () => {
    await extra?.close();
    extra = undefined;
    await cluster?.close();
    cluster = undefined;
  });

  it("adds a fourth server that catches up, then removes a follower", async () => {
    cluster = new VirtualCluster({ seed: testSeed(22) });
    await cluster.start();
    const leader = await cluster.electLeader();
    for (let v = 0; v < 20; v++) {
      expect((await cluster.outcome(leader.group.propose({ value: v }), 5000, "p")).ok).toBe(true);
    }
    // A new server joins: bootstrapped with the current members and itself.
    const ids = [...cluster.names(), "server-4"].map(nodeIdFromServerName);
    extra = createRaftServer({
      serverName: "server-4",
      clusterName: "test",
      dataDir: "/data/server-4",
      disk: createMemoryDisk(),
      fabric: cluster.network.createFabric("server-4"),
      clock: cluster.clock,
      random: seededSource(4),
      timing: FAST_TIMING,
    });
    const sm = new ListStateMachine();
    const config = { group: cluster.group, stateMachine: sm };
    await extra.bootstrapRaftNode(config, ids, false);
    const joined = await extra.startRaftNode<AppendCommand, number>(config);
    const add = await cluster.outcome(leader.group.proposeAddPeer(joined.id), 10_000, "add peer");
    expect(add).toEqual({ ok: true, value: undefined });
    expect(leader.group.peerNames()).toContain(joined.id);
    expect(leader.group.status().clusterSize).toBe(4);
    await cluster.runUntil(() => sm.values.length === 20, 10_000, "new server caught up");
    expect(sm.values).toEqual(leader.sm.values);

    const again = await cluster.outcome(leader.group.proposeAddPeer(joined.id), 5000, "re-add");
    expect(again.ok).toBe(false);
    const e = (again as { error: ServerError }).error;
    expect(e.code).toBe("MEMBERSHIP");
    expect(e.reason).toBe("ALREADY_MEMBER");

    const follower = cluster.members.find((m) => m !== leader) as Member;
    const removed = await cluster.outcome(
      leader.group.proposeRemovePeer(follower.id),
      10_000,
      "remove peer",
    );
    expect(removed).toEqual({ ok: true, value: undefined });
    expect(leader.group.peerNames()).not.toContain(follower.id);
    const more = await cluster.outcome(leader.group.propose({ value: 99 }), 10_000, "after");
    expect(more.ok).toBe(true);
    await cluster.runUntil(() => sm.values.includes(99), 10_000, "new member applied 99");

    // The committed membership is durable: a restarted server comes back with it.
    await cluster.stop(leader);
    await cluster.restart(leader);
    expect([...leader.group.peerNames()].sort()).toEqual(
      [
        leader.id,
        joined.id,
        ...cluster.members.filter((m) => m !== leader && m !== follower).map((m) => m.id),
      ].sort(),
    );
  });

  it("rejects adding a peer on a follower with NOT_LEADER", async () => {
    cluster = new VirtualCluster({ seed: testSeed(23) });
    await cluster.start();
    const leader = await cluster.electLeader();
    const follower = cluster.members.find((m) => m !== leader) as Member;
    const r = await cluster.outcome(follower.group.proposeAddPeer("ABCDEFGH"), 1000, "add");
    expect(r.ok).toBe(false);
    expect((r as { error: ServerError }).error.code).toBe("NOT_LEADER");
  });
});
