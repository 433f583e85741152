import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeIdFromServerName } from "@raft/codec";
import { afterEach, describe, expect, it } from "vitest";
import {
  createMemoryNetwork,
  createRaftServer,
  type MemoryNetwork,
  type RaftGroup,
  type RaftServer,
} from "../../src/index";
import { type AppendCommand, ListStateMachine } from "../helpers/log-state-machine";
import { FAST_TIMING } from "../helpers/virtual-cluster";

interface RealMember {
  server: RaftServer;
  group: RaftGroup<AppendCommand, number>;
  sm: ListStateMachine;
}

const NAMES = ["r1", "r2", "r3"];

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("RaftServer on real files and real time", () => {
  let dir: string | undefined;
  let network: MemoryNetwork | undefined;
  let members: RealMember[] = [];
  afterEach(async () => {
    for (const m of members) await m.server.close();
    members = [];
    network?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function boot(bootstrap: boolean): Promise<void> {
    network = createMemoryNetwork({ delivery: "timers" });
    const ids = NAMES.map(nodeIdFromServerName);
    members = [];
    for (const name of NAMES) {
      // Defaults: node disk, system clock, crypto randomness.
      const server = createRaftServer({
        serverName: name,
        clusterName: "real",
        dataDir: join(dir as string, name),
        fabric: network.createFabric(name),
        timing: FAST_TIMING,
      });
      const sm = new ListStateMachine();
      if (bootstrap) await server.bootstrapRaftNode({ group: "G", stateMachine: sm }, ids, true);
      const group = await server.startRaftNode<AppendCommand, number>({
        group: "G",
        stateMachine: sm,
      });
      members.push({ server, group, sm });
    }
  }

  it("replicates with fsync, then recovers every applied value after a full restart", async () => {
    dir = await mkdtemp(join(tmpdir(), "raft-server-"));
    await boot(true);
    await waitFor(() => members.some((m) => m.group.isLeader()), 10_000, "leader");
    const leader = members.find((m) => m.group.isLeader()) as RealMember;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => leader.group.propose({ value: i })),
    );
    expect(new Set(results).size).toBe(200);
    await waitFor(() => members.every((m) => m.sm.values.length === 200), 10_000, "replicated");
    const expected = [...leader.sm.values];
    const status = leader.group.status();
    expect(status.wal.syncs).toBeGreaterThan(0);
    expect(status.peers).toHaveLength(3);
    // Only its own server is known by name: nothing registered the others on a memory network.
    const self = status.peers.find((p) => p.id === leader.server.nodeId);
    expect(self?.serverName).toBe(leader.server.serverName);
    expect(status.peers.filter((p) => p.serverName === undefined)).toHaveLength(2);

    for (const m of members) await m.server.close();
    network?.close();
    await boot(false);
    await waitFor(() => members.some((m) => m.group.isLeader()), 10_000, "leader after restart");
    await waitFor(() => members.every((m) => m.sm.values.length === 200), 10_000, "recovered");
    for (const m of members) expect(m.sm.values).toEqual(expected);
  });
});
