import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeIdFromServerName } from "@raft/codec";
import { createMemoryDisk } from "@raft/wal/testing";
import { afterAll, bench, describe } from "vitest";
import {
  type AppliedCommand,
  createMemoryNetwork,
  createRaftServer,
  type RaftGroup,
  type RaftServer,
  type StateMachine,
} from "../src/index";

const OUTSTANDING = 256;
const payload = new Uint8Array(256).fill(7);

/** Counts applied commands; the result is the count (what a KV would return as a revision). */
class CountingMachine implements StateMachine<Uint8Array, number> {
  applied = 0;
  apply(commands: readonly AppliedCommand<Uint8Array>[]): number[] {
    return commands.map(() => ++this.applied);
  }
  snapshot(): Uint8Array {
    return new Uint8Array(8);
  }
  restore(): void {}
}

interface Bench {
  readonly servers: RaftServer[];
  readonly leader: RaftGroup<Uint8Array, number>;
  close(): Promise<void>;
}

/**
 * Three servers over the in-memory network (real timers), on memory disks or on real files with
 * fsync (the default `createNodeDisk()`).
 */
async function threeServers(disk: "memory" | "files", dataDir: string): Promise<Bench> {
  const network = createMemoryNetwork({ delivery: "timers" });
  const names = ["b1", "b2", "b3"];
  const ids = names.map(nodeIdFromServerName);
  const servers: RaftServer[] = [];
  const groups: RaftGroup<Uint8Array, number>[] = [];
  for (const name of names) {
    const server = createRaftServer({
      serverName: name,
      clusterName: "bench",
      dataDir: join(dataDir, name),
      ...(disk === "memory" ? { disk: createMemoryDisk() } : {}),
      fabric: network.createFabric(name),
      timing: { electionTimeoutMinMs: 150, electionTimeoutMaxMs: 300, heartbeatIntervalMs: 50 },
    });
    const config = { group: "bench", stateMachine: new CountingMachine() };
    await server.bootstrapRaftNode(config, ids, true);
    groups.push(await server.startRaftNode(config));
    servers.push(server);
  }
  const start = performance.now();
  while (!groups.some((g) => g.isLeader())) {
    if (performance.now() - start > 10_000) throw new Error("no leader within 10 s");
    await new Promise((r) => setTimeout(r, 10));
  }
  const leader = groups.find((g) => g.isLeader()) as RaftGroup<Uint8Array, number>;
  return {
    servers,
    leader,
    close: async () => {
      for (const s of servers) await s.close();
      network.close();
    },
  };
}

async function burst(leader: RaftGroup<Uint8Array, number>): Promise<void> {
  await Promise.all(Array.from({ length: OUTSTANDING }, () => leader.propose(payload)));
}

const memory = await threeServers("memory", "/bench");
const dir = await mkdtemp(join(tmpdir(), "raft-server-bench-"));
const files = await threeServers("files", dir);

afterAll(async () => {
  await memory.close();
  await files.close();
  await rm(dir, { recursive: true, force: true });
});

describe("RaftServer, 3 servers, in-memory network", () => {
  bench(`commit ${OUTSTANDING} proposals of 256 B (memory disk)`, async () => {
    await burst(memory.leader);
  });
  bench(`commit ${OUTSTANDING} proposals of 256 B (files, fsync before ack)`, async () => {
    await burst(files.leader);
  });
});
