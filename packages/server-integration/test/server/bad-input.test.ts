import { appendEntrySubject, voteSubject } from "@raft/codec";
import { afterEach, describe, expect, it } from "vitest";
import { seededSource } from "../helpers/seeded-source";
import { type Member, testSeed, VirtualCluster } from "../helpers/virtual-cluster";

describe("RaftServer under bad input and overload", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("drops and counts garbage frames and unknown groups, and keeps serving", async () => {
    const seed = testSeed(12);
    cluster = new VirtualCluster({ seed });
    await cluster.start();
    const leader = await cluster.electLeader();
    const attacker = cluster.network.createFabric("attacker");
    const random = seededSource(seed);
    const subjects = [appendEntrySubject("G1"), voteSubject("G1"), appendEntrySubject("nosuch")];
    for (let i = 0; i < 300; i++) {
      const bytes = new Uint8Array(random.nextUint32() % 80);
      for (let j = 0; j < bytes.length; j++) bytes[j] = random.nextUint32() & 0xff;
      attacker.publish(subjects[i % subjects.length] as string, "$NRG.R.abcdefgh", bytes);
    }
    const result = await cluster.outcome(leader.group.propose({ value: 42 }), 5000, "propose");
    expect(result).toMatchObject({ ok: true });
    await cluster.runUntil(
      () => cluster?.members.every((m) => m.sm.values.includes(42)) ?? false,
      5000,
      "applied everywhere",
    );
    const invalid = cluster.members.reduce((n, m) => n + m.server.stats().invalidDropped, 0);
    // 200 garbage frames reached each of 3 servers' group subjects; a few random byte strings
    // could decode by chance, so require most of them to be counted.
    expect(invalid).toBeGreaterThan(400);
    for (const m of cluster.members) expect(m.group.state()).not.toBe("closed");
    await attacker.close();
  });

  it("bounds the inbound queue of a server with a slow state machine, then catches up", async () => {
    cluster = new VirtualCluster({ seed: testSeed(13), limits: { inboundQueueMax: 16 } });
    await cluster.start();
    const leader = await cluster.electLeader();
    const slow = cluster.members.find((m) => m !== leader) as Member;
    let release: () => void = () => {};
    slow.sm.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // One proposal at a time: every one is its own append entry to the slow server.
    let applyStarted = false;
    for (let v = 0; v < 100; v++) {
      const r = await cluster.outcome(leader.group.propose({ value: v }), 5000, `propose ${v}`);
      expect(r.ok).toBe(true);
      applyStarted ||= slow.sm.applyCalls > 0;
    }
    expect(applyStarted).toBe(true);
    const q = slow.group.status().queues;
    expect(q.inbound).toBeLessThanOrEqual(16);
    expect(q.inboundDropped).toBeGreaterThan(0);
    expect(slow.server.stats().inboundDropped).toBe(q.inboundDropped);
    release();
    slow.sm.gate = undefined;
    await cluster.runUntil(() => slow.sm.values.length === 100, 20_000, "slow server caught up");
    expect(slow.sm.values).toEqual(leader.sm.values);
  });
});
