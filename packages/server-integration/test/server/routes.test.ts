import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeIdFromServerName } from "@raft/codec";
import { createMemoryDisk } from "@raft/wal/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  createRaftServer,
  createRouteFabric,
  type RaftGroup,
  type RaftServer,
  type RouteFabric,
  ServerError,
} from "../../src/index";
import { type AppendCommand, ListStateMachine } from "../helpers/log-state-machine";
import { FAST_TIMING } from "../helpers/virtual-cluster";

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("RaftServer over TCP routes", () => {
  const fabrics: RouteFabric[] = [];
  const servers: RaftServer[] = [];
  let dir: string | undefined;
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    for (const f of fabrics.splice(0)) await f.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("elects, replicates and names the leader's server from the route handshake", async () => {
    dir = await mkdtemp(join(tmpdir(), "raft-routes-"));
    const names = ["t1", "t2", "t3"];
    for (const name of names) {
      fabrics.push(
        await createRouteFabric({
          serverName: name,
          clusterName: "tcp",
          listen: { host: "127.0.0.1", port: 0 },
          peers: fabrics.map((f) => ({ name: f.serverName, ...f.address() })),
        }),
      );
    }
    await waitFor(() => fabrics.every((f) => f.routes().length === 2), 5000, "full mesh");
    const groups: RaftGroup<AppendCommand, number>[] = [];
    const machines: ListStateMachine[] = [];
    for (const [i, name] of names.entries()) {
      const server = createRaftServer({
        serverName: name,
        clusterName: "tcp",
        dataDir: join(dir, name),
        disk: createMemoryDisk(),
        fabric: fabrics[i] as RouteFabric,
        timing: FAST_TIMING,
      });
      servers.push(server);
      const sm = new ListStateMachine();
      machines.push(sm);
      const config = { group: "tcpgroup", stateMachine: sm };
      await server.bootstrapRaftNode(config, names.map(nodeIdFromServerName), true);
      groups.push(await server.startRaftNode<AppendCommand, number>(config));
    }
    await waitFor(() => groups.some((g) => g.isLeader()), 10_000, "leader");
    const li = groups.findIndex((g) => g.isLeader());
    const leader = groups[li] as RaftGroup<AppendCommand, number>;
    await Promise.all(Array.from({ length: 100 }, (_, v) => leader.propose({ value: v })));
    await waitFor(() => machines.every((m) => m.values.length === 100), 10_000, "replicated");
    for (const m of machines) expect(m.values).toEqual(machines[li]?.values);

    const fi = (li + 1) % 3;
    const follower = groups[fi] as RaftGroup<AppendCommand, number>;
    await waitFor(() => follower.leaderId() === leader.id, 5000, "leader known");
    // Nobody called registerServer: the name comes from the route fabric's handshake.
    const e = await follower.propose({ value: -1 }).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(ServerError);
    expect((e as ServerError).code).toBe("NOT_LEADER");
    expect((e as ServerError).leaderServerName).toBe(names[li]);
    expect(servers[fi]?.clusterNameForNode(leader.id)).toBe("tcp");
  });
});
