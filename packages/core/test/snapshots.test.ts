import { decodePeerState, EntryType } from "@raft/codec";
import { describe, expect, it } from "vitest";
import { createRaftNode } from "../src/node";
import { Cluster, nodeId, TEST_TIMING } from "../src/testing/cluster";
import { MemoryStorage } from "../src/testing/memory-storage";
import { Prng } from "../src/testing/prng";
import type { Ready } from "../src/types";
import {
  ackAll,
  ae,
  drain,
  enc,
  makeLeader,
  N1,
  N2,
  N3,
  normal,
  records,
  solo,
  stepAE,
} from "./helpers";

const three = [1, 2, 3].map(nodeId);

function electedCluster(): Cluster {
  const c = new Cluster({ ids: three });
  c.node(N1).campaignImmediately();
  c.advanceTime(50);
  c.stabilize();
  return c;
}

function proposeAll(c: Cluster, values: readonly string[]): void {
  const leader = c.leader();
  if (leader === undefined) throw new Error("no leader");
  for (const v of values) leader.propose(leader.term, enc(v));
  c.stabilize();
  c.advanceTime(50);
  c.stabilize();
}

describe("snapshots (spec §5.9)", () => {
  it("records the upper layer's snapshot at its applied index and compacts the log after it", () => {
    const s = solo();
    makeLeader(s);
    s.node.propose(s.node.term, enc("a"));
    drain(s);
    ackAll(s, 2, [N2]);
    drain(s);
    expect(s.node.progress()).toEqual({ index: 2, commit: 2, applied: 2 });
    const result = s.node.installSnapshot(enc("state@2"));
    expect(result).toEqual({ ok: true, index: 2 });
    const rd = s.flush();
    expect(rd?.snapshot?.index).toBe(2);
    expect(rd?.snapshot?.term).toBe(s.node.term);
    expect(rd?.compactBefore).toBe(3);
    // The peer state recorded is the committed membership.
    const ps = decodePeerState(rd?.snapshot?.peerState ?? new Uint8Array());
    expect([...ps.peers].sort()).toEqual([N1, N2, N3]);
    expect(ps.clusterSize).toBe(3);
    expect(s.storage.firstIndex()).toBe(3);
    expect(s.node.size().entries).toBe(0);
  });

  it("ignores a second snapshot at the same applied index (IgnoreDoubleSnapshot)", () => {
    const s = solo();
    makeLeader(s);
    expect(s.node.installSnapshot(enc("x")).ok).toBe(true);
    s.flush();
    expect(s.node.installSnapshot(enc("y"))).toEqual({ ok: false, code: "NOTHING_APPLIED" });
    s.node.close();
    expect(s.node.installSnapshot(enc("z"))).toEqual({ ok: false, code: "CLOSED" });
  });

  it("restores from a snapshot at start-up: delivered first, applied not raised (SnapshotRecovery)", () => {
    const c = electedCluster();
    proposeAll(c, ["a", "b"]);
    c.snapshot(N2);
    c.stabilize();
    proposeAll(c, ["c"]);
    const before = c.digest(N2);
    const snapIndex = c.storage(N2).snapshot?.index ?? 0;
    expect(snapIndex).toBeGreaterThan(0);
    c.crash(N2);
    c.restart(N2);
    const node = c.node(N2);
    expect(node.progress().applied).toBe(0);
    expect(node.progress().commit).toBeGreaterThanOrEqual(snapIndex);
    c.processReady(N2);
    const applied = c.appliedLog.get(N2) ?? [];
    expect(applied[0]?.index).toBe(snapIndex);
    expect(applied[0]?.entries[0]?.type).toBe(EntryType.Snapshot);
    c.stabilize();
    c.advanceTime(50);
    c.stabilize();
    expect(c.digest(N2)).toBe(before);
  });

  it("skips commits over compacted indexes (ApplyCommitDoesNotResetWALAtSnapshotBoundary)", () => {
    const c = electedCluster();
    proposeAll(c, ["a", "b", "c"]);
    c.snapshot(N2);
    c.stabilize();
    const applied = (c.appliedLog.get(N2) ?? []).length;
    // A stale append entry carrying an old commit changes nothing and throws nothing.
    c.advanceTime(50);
    c.stabilize();
    expect((c.appliedLog.get(N2) ?? []).length).toBe(applied);
    proposeAll(c, ["d"]);
    expect(c.digest(N2)).toBe(c.digest(N1));
  });

  it("streams its snapshot first to a follower behind its compacted log (SnapshotCatchup)", () => {
    const c = electedCluster();
    proposeAll(c, ["a"]);
    c.crash(N3);
    proposeAll(c, ["b", "c", "d"]);
    c.snapshot(N1);
    c.snapshot(N2);
    c.stabilize();
    proposeAll(c, ["e"]);
    const leaderFirst = c.storage(N1).firstIndex();
    expect(leaderFirst).toBeGreaterThan(c.storage(N3).lastIndex() + 1);
    c.restart(N3);
    for (let i = 0; i < 20; i++) {
      c.advanceTime(50);
      c.stabilize();
    }
    const applied = c.appliedLog.get(N3) ?? [];
    expect(applied.some((e) => e.entries[0]?.type === EntryType.Snapshot)).toBe(true);
    expect(c.storage(N3).snapshot?.index).toBe(c.storage(N1).snapshot?.index);
    expect(c.digest(N3)).toBe(c.digest(N1));
    expect(records(c.storage(N3))).toEqual(records(c.storage(N1)));
  });

  it("truncates a log with a gap after the snapshot at start-up (TruncateLogWithMisalignedSnapshotGap)", () => {
    const storage = new MemoryStorage();
    // Records 10..11 exist but the snapshot ends at 5: indexes 6..9 are missing.
    const rd = {
      append: [10, 11].map((index) => ({ index, term: 1, data: new Uint8Array([index]) })),
    } as unknown as Ready;
    storage.persist({ ...rd, compactBefore: 10, append: [] } as Ready);
    storage.persist({ ...rd } as Ready);
    expect(storage.firstIndex()).toBe(10);
    const snapshot = { term: 1, index: 5, peerState: new Uint8Array(0), data: enc("s") };
    const node = createRaftNode({
      id: N1,
      group: "G",
      peers: [N1, N2, N3],
      now: 0,
      random: new Prng(1),
      log: storage,
      snapshot,
      timing: TEST_TIMING,
    });
    expect(node.progress()).toEqual({ index: 5, commit: 5, applied: 0 });
    const first = node.ready();
    expect(first.truncateAfter).toBe(9);
    expect(first.compactBefore).toBe(6);
    expect(first.committed).toEqual([
      { index: 5, entries: [{ type: EntryType.Snapshot, data: enc("s") }] },
    ]);
    storage.persist(first);
    node.advance(first);
    expect(storage.lastIndex()).toBe(5);
    expect(storage.firstIndex()).toBe(6);
  });

  it("compacts records at or below the snapshot left by a crash before compaction", () => {
    const s = solo();
    for (let i = 1; i <= 3; i++) {
      stepAE(
        s.node,
        ae({ pindex: i - 1, pterm: i === 1 ? 0 : 1, commit: i - 1, entries: [normal(`${i}`)] }),
      );
      s.flush();
    }
    const snapshot = { term: 1, index: 2, peerState: new Uint8Array(0), data: enc("s") };
    const node = createRaftNode({
      id: N1,
      group: "G",
      peers: [N1, N2, N3],
      now: 0,
      random: new Prng(1),
      log: s.storage,
      snapshot,
      timing: TEST_TIMING,
    });
    expect(node.progress().index).toBe(3);
    const rd = node.ready();
    expect(rd.compactBefore).toBe(3);
    expect(rd.truncateAfter).toBeUndefined();
  });

  it("cancels catchup when the first catchup message of a snapshot-less jump is not a snapshot", () => {
    const s = solo();
    stepAE(s.node, ae({ pindex: 10, pterm: 1, commit: 10 }));
    const rd = s.flush();
    const inbox = rd?.subscribe[0] ?? "";
    expect(inbox.startsWith("$NRG.CR.")).toBe(true);
    stepAE(s.node, ae({ pindex: 5, pterm: 1, lterm: 1, entries: [normal("x")] }), inbox);
    expect(s.flush()?.unsubscribe).toContain(inbox);
    expect(s.node.progress().index).toBe(0);
  });
});

describe("catchup and snapshots: candidacy and cancellation", () => {
  it("does not campaign before the restored snapshot is processed (DontSwitchToCandidateWithInflightSnapshot)", () => {
    const storage = new MemoryStorage();
    const node = createRaftNode({
      id: N1,
      group: "G",
      peers: [N1, N2, N3],
      now: 0,
      random: new Prng(1),
      log: storage,
      snapshot: { term: 1, index: 5, peerState: new Uint8Array(0), data: enc("s") },
      timing: TEST_TIMING,
    });
    const rd = node.ready();
    storage.persist(rd);
    node.advance(rd);
    node.tick(10_000);
    expect(node.state).toBe("follower");
    node.applied(5);
    node.tick(20_000);
    expect(node.state).toBe("candidate");
  });

  it("cancels a running catchup on a vote request of a higher term (CancelCatchupWhenDetectingHigherTermDuringVoteRequest)", () => {
    const s = solo();
    stepAE(s.node, ae({ pindex: 10, pterm: 1, commit: 10 }));
    const inbox = s.flush()?.subscribe[0] ?? "";
    expect(inbox.startsWith("$NRG.CR.")).toBe(true);
    s.node.step({
      subject: s.node.subjects.vote,
      reply: "",
      frame: {
        kind: "voteRequest",
        request: { term: 5, lastTerm: 1, lastIndex: 10, candidate: N3 },
      },
    });
    expect(s.flush()?.unsubscribe).toContain(inbox);
    // Entries still arriving on the old inbox are dropped (IgnoreEntryAfterCanceledCatchup).
    stepAE(s.node, ae({ term: 5, pindex: 0, pterm: 0, lterm: 5, entries: [normal("x")] }), inbox);
    expect(s.node.progress().index).toBe(0);
  });
});

describe("compaction estimate (Processed, SizeAndApplied)", () => {
  it("reports the applied entries above the snapshot and their share of the stored bytes", () => {
    const s = solo();
    for (let i = 1; i <= 4; i++) {
      stepAE(
        s.node,
        ae({ pindex: i - 1, pterm: i === 1 ? 0 : 1, commit: i - 1, entries: [normal(`${i}`)] }),
      );
      s.flush();
    }
    // Records 1..4 stored, 1..3 committed and applied (each record carries the previous commit).
    const total = s.storage.bytes();
    expect(s.node.applied(3)).toEqual({ entries: 3, bytes: Math.floor((total * 3) / 4) });
    expect(s.node.installSnapshot(enc("s")).ok).toBe(true);
    s.flush();
    expect(s.node.processed(3, 3)).toEqual({ entries: 0, bytes: 0 });
  });
});

describe("snapshot checkpoints (CreateSnapshotCheckpoint)", () => {
  /** A follower with records 1..4 of which 1..3 are committed and applied. */
  function applied3(): ReturnType<typeof solo> {
    const s = solo();
    for (let i = 1; i <= 4; i++) {
      stepAE(
        s.node,
        ae({ pindex: i - 1, pterm: i === 1 ? 0 : 1, commit: i - 1, entries: [normal(`${i}`)] }),
      );
      s.flush();
    }
    return s;
  }

  it("iterates the entries since the last snapshot and installs at its index (InstallSnapshotFromCheckpoint)", () => {
    const s = applied3();
    const cp = s.node.createSnapshotCheckpoint();
    expect(cp?.index).toBe(3);
    expect(cp?.lastSnapshot).toBeUndefined();
    expect([...(cp?.entries() ?? [])].map((e) => e.index)).toEqual([1, 2, 3]);
    expect(s.node.createSnapshotCheckpoint()).toBeUndefined();
    expect(cp?.install(enc("cp"))).toEqual({ ok: true, index: 3 });
    const rd = s.flush();
    expect(rd?.snapshot?.index).toBe(3);
    expect(rd?.compactBefore).toBe(4);
    // The next checkpoint starts after it.
    stepAE(s.node, ae({ pindex: 4, pterm: 1, commit: 4, entries: [normal("5")] }));
    s.flush();
    const next = s.node.createSnapshotCheckpoint();
    expect(next?.lastSnapshot?.index).toBe(3);
    expect([...(next?.entries() ?? [])].map((e) => e.index)).toEqual([4]);
  });

  it("refuses a plain install while a checkpoint is open; a forced one aborts it (ForcedInstallSnapshotAbortsInProgressCheckpoint)", () => {
    const s = applied3();
    const cp = s.node.createSnapshotCheckpoint();
    expect(s.node.installSnapshot(enc("x"))).toEqual({ ok: false, code: "BUSY" });
    expect(s.node.installSnapshot(enc("x"), true).ok).toBe(true);
    expect(cp?.install(enc("cp"))).toEqual({ ok: false, code: "NOTHING_APPLIED" });
    // The aborted checkpoint's entry sequence stops (AppendEntriesSeqStopsOnRangeBreak).
    expect([...(cp?.entries() ?? [])]).toEqual([]);
  });

  it("waits for an in-flight snapshot write (CheckpointInstallSnapshotWaitsForInFlightWrite)", () => {
    const s = applied3();
    expect(s.node.installSnapshot(enc("a")).ok).toBe(true);
    const rd = s.node.ready(); // carries the snapshot; not yet durable
    stepAE(s.node, ae({ pindex: 4, pterm: 1, commit: 4, entries: [normal("5")] }));
    s.node.applied(4);
    const cp = s.node.createSnapshotCheckpoint();
    expect(cp?.index).toBe(4);
    expect(cp?.install(enc("b"))).toEqual({ ok: false, code: "BUSY" });
    s.storage.persist(rd);
    s.node.advance(rd);
    expect(cp?.install(enc("b"))).toEqual({ ok: true, index: 4 });
  });

  it("replaces an open checkpoint when forced, and aborting frees plain installs", () => {
    const s = applied3();
    const open = s.node.createSnapshotCheckpoint();
    const forced = s.node.createSnapshotCheckpoint(true);
    expect(forced).toBeDefined();
    expect(open?.install(enc("old"))).toEqual({ ok: false, code: "NOTHING_APPLIED" });
    forced?.abort();
    expect(s.node.installSnapshot(enc("c")).ok).toBe(true);
  });

  it("fails on a closed node (SnapshotCheckpointNodeClosed)", () => {
    const s = applied3();
    const cp = s.node.createSnapshotCheckpoint();
    s.node.close();
    expect(cp?.install(enc("x"))).toEqual({ ok: false, code: "CLOSED" });
    expect(s.node.createSnapshotCheckpoint()).toBeUndefined();
  });
});
