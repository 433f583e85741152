import type { UnsafeTestingFaults } from "@raft/core";
import { createFaultyDisk, type FaultyDisk } from "@raft/wal/testing";
import { describe, expect, it } from "vitest";
import { seededSource } from "../helpers/seeded-source";
import { createSlowDisk } from "../helpers/slow-disk";
import { VirtualCluster } from "../helpers/virtual-cluster";

interface CrashRun {
  /** Acknowledged values missing from the state after recovery. */
  readonly lost: number[];
  /** Terms in which more than one server became leader. */
  readonly doubleLeaders: number[];
  readonly acked: number;
}

/**
 * Three servers on fault-injecting disks where every fsync takes 5 virtual ms. Each round: load,
 * then at a random moment while appends, syncs and acknowledgements are in flight every machine
 * loses power (unsynced writes lost, torn tails; the crashed processes do no further IO), and the
 * cluster restarts from the surviving bytes. Reports acknowledged proposals missing afterwards and
 * terms with two leaders.
 */
async function crashRun(
  seed: number,
  rounds: number,
  faults?: UnsafeTestingFaults,
  snapshotEntries?: number,
): Promise<CrashRun> {
  const random = seededSource(seed);
  const disks = new Map<string, FaultyDisk>();
  const slow = { on: false };
  const fences: { dead: boolean }[] = [];
  const cluster = new VirtualCluster({
    seed,
    ...(faults === undefined ? {} : { faults }),
    ...(snapshotEntries === undefined ? {} : { snapshotPolicy: { entries: snapshotEntries } }),
    diskFor: (name, clock) => {
      let disk = disks.get(name);
      if (disk === undefined) {
        disk = createFaultyDisk({ seed: random.nextUint32() });
        disks.set(name, disk);
      }
      const fence = { dead: false };
      fences.push(fence);
      return createSlowDisk(disk, clock, 5, slow, fence);
    },
  });
  const acked = new Set<number>();
  const leaders = new Map<number, Set<string>>();
  const watch = (): void => {
    for (const m of cluster.members) {
      m.group.onLeadChange((e) => {
        if (!e.isLeader) return;
        const set = leaders.get(e.term) ?? new Set<string>();
        set.add(m.name);
        leaders.set(e.term, set);
      });
    }
  };
  try {
    await cluster.start();
    slow.on = true;
    watch();
    let next = 0;
    for (let round = 0; round < rounds; round++) {
      const leader = await cluster.electLeader();
      let roundAcked = 0;
      const load = (n: number): void => {
        for (let i = 0; i < n; i++) {
          const v = next++;
          leader.group.propose({ value: v }).then(
            () => {
              acked.add(v);
              roundAcked++;
            },
            () => {},
          );
        }
      };
      load(40);
      await cluster.runUntil(() => roundAcked >= 20, 10_000, "first acks");
      load(40);
      // Crash at a random moment while appends, syncs and acknowledgements are in flight.
      await cluster.runFor(random.nextUint32() % 12);
      for (const fence of fences) fence.dead = true;
      for (const disk of disks.values()) disk.crash({ tornWrites: true });
      slow.on = false;
      // Syncs waiting on the virtual clock now reach the dead disk and fail, releasing the loops.
      for (const m of cluster.members) await m.fabric.close();
      cluster.clock.advance(5);
      await cluster.settle();
      for (const m of cluster.members) await cluster.stop(m);
      for (const m of cluster.members) await cluster.restart(m);
      slow.on = true;
      watch();
    }
    const leader = await cluster.electLeader();
    // A fresh proposal commits everything before it in the new term.
    const last = await cluster.outcome(leader.group.propose({ value: -1 }), 10_000, "final");
    expect(last.ok).toBe(true);
    const state = new Set(leader.sm.values);
    const lost = [...acked].filter((v) => !state.has(v)).sort((a, b) => a - b);
    const doubleLeaders = [...leaders].filter(([, s]) => s.size > 1).map(([t]) => t);
    return { lost, doubleLeaders, acked: acked.size };
  } finally {
    slow.on = false;
    cluster.clock.advance(5);
    await cluster.settle();
    await cluster.close();
  }
}

describe("RaftServer durability across crashes (faulty disk)", () => {
  const env = process.env["SEED"];
  const seeds = env === undefined ? Array.from({ length: 20 }, (_, i) => 101 + i) : [Number(env)];

  it("never loses an acknowledged proposal nor elects two leaders in a term", async () => {
    for (const seed of seeds) {
      const run = await crashRun(seed, 3);
      expect(run.acked, `SEED=${seed}`).toBeGreaterThan(0);
      expect(run.lost, `lost acknowledged values, SEED=${seed}`).toEqual([]);
      expect(run.doubleLeaders, `two leaders in a term, SEED=${seed}`).toEqual([]);
    }
  });

  it("keeps that guarantee while snapshots compact the log", async () => {
    for (const seed of seeds.slice(0, 10)) {
      const run = await crashRun(seed, 3, undefined, 5);
      expect(run.acked, `SEED=${seed}`).toBeGreaterThan(0);
      expect(run.lost, `lost acknowledged values, SEED=${seed}`).toEqual([]);
      expect(run.doubleLeaders, `two leaders in a term, SEED=${seed}`).toEqual([]);
    }
  });

  it("catches the planted bug of acknowledging and voting before persisting", async () => {
    // Seeds known to expose the planted bug under this schedule (found by a 60-seed scan, where
    // about one seed in three exposes it): the check above must be able to fail.
    const caught: number[] = [];
    for (const seed of [6, 8, 14, 16]) {
      const run = await crashRun(seed, 3, { ackBeforePersist: true, voteBeforePersist: true });
      if (run.lost.length > 0 || run.doubleLeaders.length > 0) caught.push(seed);
    }
    expect(caught.length).toBeGreaterThan(0);
  });
});
