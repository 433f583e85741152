import { nodeIdFromServerName } from "@raft/codec";
import { createMemoryDisk } from "@raft/wal/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  createManualClock,
  createMemoryNetwork,
  createRaftServer,
  type RaftServer,
  ServerError,
} from "../../src/index";
import { ListStateMachine } from "../helpers/log-state-machine";
import { seededSource } from "../helpers/seeded-source";
import { testSeed, VirtualCluster } from "../helpers/virtual-cluster";

function lonelyServer(): RaftServer {
  const network = createMemoryNetwork();
  return createRaftServer({
    serverName: "solo",
    clusterName: "c1",
    dataDir: "/data/solo",
    disk: createMemoryDisk(),
    fabric: network.createFabric("solo"),
    clock: createManualClock(),
    random: seededSource(1),
  });
}

async function rejection(p: Promise<unknown>): Promise<ServerError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(ServerError);
  return e as ServerError;
}

describe("RaftServer registry and lifecycle", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("validates node ids and group names in bootstrapRaftNode", async () => {
    const server = lonelyServer();
    const sm = new ListStateMachine();
    const bad = await rejection(
      server.bootstrapRaftNode({ group: "G", stateMachine: sm }, ["short"], true),
    );
    expect(bad.code).toBe("INVALID_ARGUMENT");
    const badGroup = await rejection(
      server.bootstrapRaftNode({ group: "a.b", stateMachine: sm }, [], true),
    );
    expect(badGroup.code).toBe("INVALID_ARGUMENT");
    await server.close();
  });

  it("refuses to init a group that was never bootstrapped, and a second group of the same name", async () => {
    const server = lonelyServer();
    const sm = new ListStateMachine();
    expect((await rejection(server.initRaftNode({ group: "G", stateMachine: sm }))).code).toBe(
      "NOT_BOOTSTRAPPED",
    );
    await server.bootstrapRaftNode({ group: "G", stateMachine: sm }, [], true);
    const g = await server.initRaftNode({ group: "G", stateMachine: sm });
    expect(server.lookupRaftNode("G")).toBe(g);
    expect(server.numRaftNodes()).toBe(1);
    expect((await rejection(server.initRaftNode({ group: "G", stateMachine: sm }))).code).toBe(
      "ALREADY_EXISTS",
    );
    server.unregisterRaftNode("G");
    expect(server.lookupRaftNode("G")).toBeUndefined();
    expect(server.numRaftNodes()).toBe(0);
    server.registerRaftNode(g);
    expect(server.numRaftNodes()).toBe(1);
    // Not started: control requests complete at once instead of waiting for a loop.
    expect(await server.transferRaftLeaders()).toBe(false);
    expect(g.status().observer).toBe(true);
    await server.shutdownRaftNodes();
    expect(server.numRaftNodes()).toBe(0);
    expect(g.state()).toBe("closed");
    await server.close();
    expect((await rejection(server.initRaftNode({ group: "G", stateMachine: sm }))).code).toBe(
      "CLOSED",
    );
  });

  it("maps node ids to server and cluster names", async () => {
    const server = lonelyServer();
    expect(server.nodeId).toBe(nodeIdFromServerName("solo"));
    expect(server.serverNameForNode(server.nodeId)).toBe("solo");
    expect(server.clusterNameForNode(server.nodeId)).toBe("c1");
    expect(server.serverNameForNode(nodeIdFromServerName("other"))).toBeUndefined();
    server.registerServer("other", "c2");
    expect(server.serverNameForNode(nodeIdFromServerName("other"))).toBe("other");
    expect(server.clusterNameForNode(nodeIdFromServerName("other"))).toBe("c2");
    await server.close();
  });

  it("keeps the existing peer state when bootstrapped again", async () => {
    const server = lonelyServer();
    const sm = new ListStateMachine();
    await server.bootstrapRaftNode({ group: "G", stateMachine: sm }, [], true);
    await server.bootstrapRaftNode(
      { group: "G", stateMachine: sm },
      [nodeIdFromServerName("x"), nodeIdFromServerName("y")],
      true,
    );
    const g = await server.initRaftNode({ group: "G", stateMachine: sm });
    expect(g.status().clusterSize).toBe(1);
    await server.close();
  });

  it("moves leadership away on transferRaftLeaders and stepdownRaftNodes", async () => {
    cluster = new VirtualCluster({ seed: testSeed(14) });
    await cluster.start();
    const leader = await cluster.electLeader();
    expect(await cluster.outcome(leader.server.transferRaftLeaders(), 1000, "transfer")).toEqual({
      ok: true,
      value: true,
    });
    await cluster.runUntil(
      () => cluster?.leader() !== undefined && cluster.leader() !== leader,
      10_000,
      "new leader elsewhere",
    );
    expect(leader.group.status().observer).toBe(true);
    const second = cluster.leader();
    if (second === undefined) throw new Error("no leader");
    await cluster.outcome(second.server.stepdownRaftNodes(), 1000, "stepdown");
    await cluster.runUntil(
      () => cluster?.leader() !== undefined && cluster.leader() !== second,
      10_000,
      "third leader",
    );
    // Both former leaders are observers now: only the third server can lead.
    expect(cluster.leader()?.name).not.toBe(leader.name);
    expect(second.group.status().observer).toBe(true);
  });

  it("hosts several groups on one server with one timer for all of them", async () => {
    const network = createMemoryNetwork({ delivery: "manual" });
    const clock = createManualClock(1000);
    const names = ["a", "b", "c"];
    const ids = names.map(nodeIdFromServerName);
    const servers = names.map((name, i) =>
      createRaftServer({
        serverName: name,
        clusterName: "multi",
        dataDir: `/d/${name}`,
        disk: createMemoryDisk(),
        fabric: network.createFabric(name),
        clock,
        random: seededSource(100 + i),
        timing: { electionTimeoutMinMs: 150, electionTimeoutMaxMs: 300, heartbeatIntervalMs: 50 },
      }),
    );
    const groups = ["G1", "G2", "G3", "G4"];
    const machines = new Map<string, ListStateMachine>();
    for (const s of servers) {
      for (const g of groups) {
        const sm = new ListStateMachine();
        machines.set(`${s.serverName}/${g}`, sm);
        await s.bootstrapRaftNode({ group: g, stateMachine: sm }, ids, true);
        await s.startRaftNode({ group: g, stateMachine: sm });
      }
    }
    for (const s of servers) expect(s.numRaftNodes()).toBe(4);
    // One wheel per server: at most one clock timer per server, however many groups.
    expect(clock.pendingTimers()).toBeLessThanOrEqual(servers.length);
    const leaderOf = (g: string): RaftServer | undefined =>
      servers.find((s) => s.lookupRaftNode(g)?.isLeader());
    for (let step = 0; step < 20_000 && groups.some((g) => leaderOf(g) === undefined); step++) {
      network.deliverDue(clock.now());
      await new Promise<void>((r) => setImmediate(r));
      const next = Math.min(clock.nextTimerAt() ?? Infinity, network.nextDueAt() ?? Infinity);
      clock.advanceTo(next);
    }
    for (const g of groups) expect(leaderOf(g), g).toBeDefined();
    expect(clock.pendingTimers()).toBeLessThanOrEqual(servers.length);
    const statuses = servers.flatMap((s) => s.status());
    expect(statuses).toHaveLength(12);
    for (const s of servers) await s.close();
    network.close();
  });
});
