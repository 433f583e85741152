import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type LocalGroup, startLocalGroup } from "../../src/testing/index";
import { type AppendCommand, ListStateMachine } from "../helpers/log-state-machine";
import { FAST_TIMING } from "../helpers/virtual-cluster";

type Group = LocalGroup<AppendCommand, number, ListStateMachine>;
type RealMember = Group["members"][number];

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
  let local: Group | undefined;
  let members: readonly RealMember[] = [];
  afterEach(async () => {
    await local?.close();
    members = [];
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function boot(bootstrap: boolean): Promise<void> {
    // Defaults: node disk, system clock, crypto randomness.
    local = await startLocalGroup({
      names: NAMES,
      dataDir: dir as string,
      stateMachine: () => new ListStateMachine(),
      bootstrap,
      timing: FAST_TIMING,
    });
    members = local.members;
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
    await waitFor(
      () => members.every((m) => m.stateMachine.values.length === 200),
      10_000,
      "replicated",
    );
    const expected = [...leader.stateMachine.values];
    const status = leader.group.status();
    expect(status.wal.syncs).toBeGreaterThan(0);
    expect(status.peers).toHaveLength(3);
    // Only its own server is known by name: nothing registered the others on a memory network.
    const self = status.peers.find((p) => p.id === leader.server.nodeId);
    expect(self?.serverName).toBe(leader.server.serverName);
    expect(status.peers.filter((p) => p.serverName === undefined)).toHaveLength(2);

    await local?.close();
    await boot(false);
    await waitFor(() => members.some((m) => m.group.isLeader()), 10_000, "leader after restart");
    await waitFor(
      () => members.every((m) => m.stateMachine.values.length === 200),
      10_000,
      "recovered",
    );
    for (const m of members) expect(m.stateMachine.values).toEqual(expected);
  });
});
