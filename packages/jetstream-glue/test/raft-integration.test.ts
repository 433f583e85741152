import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalGroup, startLocalGroup } from "@raft/server-integration/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  createStreamStateMachine,
  encodeHeaderBlock,
  encodeStreamSnapshot,
  type StreamCommand,
  type StreamCommandResult,
  type StreamConfigInput,
  type StreamStateMachine,
} from "../src/index";

type Group = LocalGroup<StreamCommand, StreamCommandResult, StreamStateMachine>;
type Member = Group["members"][number];

const NAMES = ["js1", "js2", "js3"];
const GROUP = "S-R3F-ORDERS01";
const CONFIG: StreamConfigInput = {
  name: "ORDERS",
  subjects: ["orders.*"],
  max_msgs: 40,
  max_msgs_per_subject: 3,
};
const TIMING = {
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  heartbeatIntervalMs: 50,
  lostQuorumIntervalMs: 1000,
  lostQuorumCheckMs: 200,
};
// Wall-clock-like timestamps above 2^32, as a leader would stamp them.
const T0 = 1_764_000_000_000;

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function publish(i: number, headers: Record<string, string> = {}): StreamCommand {
  return {
    op: "publish",
    subject: `orders.${i % 7}`,
    headers: encodeHeaderBlock(headers),
    data: new TextEncoder().encode(`order ${i}`),
    ts: T0 + i,
  };
}

/** Byte-identical state: every replica's snapshot encoding. */
function snapshots(members: readonly Member[]): string[] {
  return members.map((m) =>
    Buffer.from(encodeStreamSnapshot(m.stateMachine.store)).toString("hex"),
  );
}

describe("the stream state machine in a 3-server RaftServer group", () => {
  let dir: string | undefined;
  let local: Group | undefined;
  let members: readonly Member[] = [];
  afterEach(async () => {
    await local?.close();
    members = [];
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function boot(bootstrap: boolean): Promise<void> {
    local = await startLocalGroup({
      names: NAMES,
      dataDir: dir as string,
      group: GROUP,
      stateMachine: () => createStreamStateMachine(CONFIG),
      bootstrap,
      timing: TIMING,
      snapshotPolicy: { entries: 25 },
    });
    members = local.members;
  }

  it("applies publishes identically on every replica and recovers them from snapshots", async () => {
    dir = await mkdtemp(join(tmpdir(), "jetstream-glue-"));
    await boot(true);
    await waitFor(() => members.some((m) => m.group.isLeader()), 10_000, "leader");
    const leader = members.find((m) => m.group.isLeader()) as Member;

    // Sequential proposals have a known order, so a standalone state machine predicts each
    // result: acks, a duplicate, a wrong-last-sequence error, per-subject and total limits.
    const commands: StreamCommand[] = [];
    for (let i = 0; i < 60; i++) {
      if (i === 10) commands.push(publish(i, { "Nats-Msg-Id": "order-3" }));
      else if (i === 20) commands.push(publish(i, { "Nats-Expected-Last-Sequence": "1" }));
      else commands.push(publish(i, i === 3 ? { "Nats-Msg-Id": "order-3" } : {}));
    }
    commands.push({ op: "delete", seq: 55 }, { op: "purge", filter: "orders.1", keep: 1 });
    const reference = createStreamStateMachine(CONFIG);
    const results: StreamCommandResult[] = [];
    for (const [i, command] of commands.entries()) {
      const result = await leader.group.propose(command);
      expect(result, `command ${i}`).toEqual(reference.apply([{ index: i + 1, command }])[0]);
      results.push(result);
    }
    expect(results[10]).toEqual({ stream: "ORDERS", seq: 4, duplicate: true });
    expect(results[20]).toMatchObject({ error: { err_code: 10071 } });
    expect(results[61]).toEqual({ success: true, purged: 2 });

    // Concurrent proposals: order chosen by the leader; replicas must still agree.
    await Promise.all(Array.from({ length: 40 }, (_, i) => leader.group.propose(publish(100 + i))));
    const last = leader.stateMachine.store.state().last_seq;
    await waitFor(
      () => members.every((m) => m.stateMachine.store.state().last_seq === last),
      10_000,
      "replicated",
    );
    const before = snapshots(members);
    expect(new Set(before).size).toBe(1);
    expect(leader.stateMachine.store.state()).toMatchObject({ messages: 21, num_subjects: 7 });
    expect(leader.group.status().snapshot.taken).toBeGreaterThan(0);

    // A full restart restores each replica from its snapshot and replays the rest of the log.
    await local?.close();
    await boot(false);
    await waitFor(() => members.some((m) => m.group.isLeader()), 10_000, "leader after restart");
    await Promise.all(members.map((m) => m.group.replayed()));
    await waitFor(
      () => members.every((m) => m.stateMachine.store.state().last_seq === last),
      10_000,
      "recovered",
    );
    expect(snapshots(members)).toEqual(before);
    for (const m of members) expect(m.group.status().snapshot.index).toBeGreaterThan(0);
  });
});
