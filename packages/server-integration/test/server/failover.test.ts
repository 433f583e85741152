import { afterEach, describe, expect, it } from "vitest";
import { ServerError } from "../../src/index";
import { type Member, testSeed, VirtualCluster } from "../helpers/virtual-cluster";

/** Proposes `count` values on whoever leads, retrying rejected ones; returns acknowledged values. */
function proposeTracked(
  leader: Member,
  from: number,
  count: number,
  acked: Set<number>,
  rejected: ServerError[],
): Promise<void>[] {
  const out: Promise<void>[] = [];
  for (let v = from; v < from + count; v++) {
    out.push(
      leader.group.propose({ value: v }).then(
        () => {
          acked.add(v);
        },
        (e: unknown) => {
          if (!(e instanceof ServerError)) throw e;
          rejected.push(e);
        },
      ),
    );
  }
  return out;
}

describe("RaftServer failover", () => {
  let cluster: VirtualCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it("elects a new leader when the leader's server shuts down, keeping every acknowledged proposal", async () => {
    cluster = new VirtualCluster({ seed: testSeed(3) });
    await cluster.start();
    const first = await cluster.electLeader();
    const acked = new Set<number>();
    const rejected: ServerError[] = [];
    const batch = proposeTracked(first, 0, 200, acked, rejected);
    let done = 0;
    for (const p of batch) void p.then(() => done++);
    // Shut the leader down part-way: some proposals are acknowledged, some are not.
    await cluster.runUntil(() => acked.size >= 100, 20_000, "100 acknowledged");
    await cluster.stop(first);
    await cluster.runUntil(() => done === 200, 20_000, "every proposal settled");
    for (const e of rejected) expect(["CLOSED", "NOT_LEADER", "TIMEOUT"]).toContain(e.code);

    const second = await cluster.electLeader();
    expect(second.name).not.toBe(first.name);
    const more = proposeTracked(second, 1000, 50, acked, rejected);
    let moreDone = 0;
    for (const p of more) void p.then(() => moreDone++);
    await cluster.runUntil(() => moreDone === 50, 20_000, "second batch settled");
    for (const v of [1000, 1049]) expect(acked.has(v)).toBe(true);

    for (const m of cluster.live()) {
      await cluster.runUntil(
        () => m.sm.values.length === second.sm.values.length,
        10_000,
        `${m.name} caught up`,
      );
      const present = new Set(m.sm.values);
      for (const v of acked) expect(present.has(v), `value ${v} on ${m.name}`).toBe(true);
      expect(m.sm.values).toEqual(second.sm.values);
    }
  });

  it("recovers its state after a restart from the same data directory", async () => {
    cluster = new VirtualCluster({ seed: testSeed(4) });
    await cluster.start();
    const leader = await cluster.electLeader();
    const results = Array.from({ length: 300 }, (_, i) => leader.group.propose({ value: i }));
    let settled = 0;
    for (const r of results) void r.then(() => settled++);
    await cluster.runUntil(() => settled === 300, 20_000, "300 applied");
    const follower = cluster.members.find((m) => m !== leader) as Member;
    await cluster.runUntil(() => follower.sm.values.length === 300, 10_000, "follower applied");
    const before = [...follower.sm.values];

    await cluster.stop(follower);
    await cluster.restart(follower);
    expect(follower.sm.values).toEqual([]);
    let replayed = false;
    void follower.group.replayed().then(() => {
      replayed = true;
    });
    await cluster.runUntil(() => replayed, 10_000, "replay done");
    // Replay applies what the stored entries prove committed; the rest is confirmed by the
    // leader's next append entry.
    await cluster.runUntil(() => follower.sm.values.length === 300, 10_000, "caught up");
    expect(follower.sm.values).toEqual(before);

    // And the whole cluster restarted at once.
    for (const m of cluster.members) await cluster.stop(m);
    for (const m of cluster.members) await cluster.restart(m);
    const again = await cluster.electLeader();
    await cluster.runUntil(
      () => cluster?.members.every((m) => m.sm.values.length === 300) ?? false,
      10_000,
      "all replayed",
    );
    for (const m of cluster.members) expect(m.sm.values).toEqual(before);
    let result: number | undefined;
    void again.group.propose({ value: 300 }).then((r) => {
      result = r;
    });
    await cluster.runUntil(() => result !== undefined, 10_000, "proposal after restart");
    expect(result).toBe(301);
  });
});
