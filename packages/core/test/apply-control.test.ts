import { EntryType } from "@raft/codec";
import { describe, expect, it } from "vitest";
import { createRaftNode } from "../src/node";
import { Cluster, nodeId, TEST_TIMING } from "../src/testing/cluster";
import { MemoryStorage } from "../src/testing/memory-storage";
import { Prng } from "../src/testing/prng";
import type { RaftNode, Ready } from "../src/types";
import {
  ackAll,
  ae,
  drain,
  enc,
  frames,
  makeLeader,
  N1,
  N2,
  N3,
  normal,
  solo,
  stepAE,
} from "./helpers";

/** A follower whose upper layer persists but never applies (to build an apply lag). */
function lagging(limits: { overrunEntries: number; overrunResumeEntries: number }) {
  const storage = new MemoryStorage();
  const node = createRaftNode({
    id: N1,
    group: "G",
    peers: [N1, N2, N3],
    now: 0,
    random: new Prng(3),
    log: storage,
    timing: TEST_TIMING,
    limits,
  });
  const sent: Ready["messages"][number][] = [];
  const flush = (): void => {
    for (let i = 0; i < 10 && node.hasReady(); i++) {
      const rd = node.ready();
      storage.persist(rd);
      sent.push(...rd.messages);
      node.advance(rd);
    }
  };
  flush();
  return { node, storage, sent, flush };
}

/** Feed `n` entries from leader n2 in term 1, each committing the previous ones. */
function feed(node: RaftNode, from: number, n: number): void {
  for (let i = from; i < from + n; i++) {
    stepAE(
      node,
      ae({ pindex: i - 1, pterm: i === 1 ? 0 : 1, commit: i - 1, entries: [normal(`${i}`)] }),
    );
  }
}

describe("pause, resume and drain (spec §5.13)", () => {
  it("refuses on a leader; while paused commits only raise hcommit and the node is not current", () => {
    const leader = solo();
    makeLeader(leader);
    expect(leader.node.pauseApply()).toBe(false);

    const s = solo();
    stepAE(s.node, ae({ entries: [normal("a")] }));
    drain(s);
    expect(s.node.pauseApply()).toBe(true);
    expect(s.node.isPaused()).toBe(true);
    stepAE(s.node, ae({ pindex: 1, pterm: 1, commit: 1, entries: [normal("b")] }));
    const paused = drain(s);
    expect(paused.length).toBeGreaterThan(0);
    expect(s.node.progress()).toEqual({ index: 2, commit: 1, applied: 0 });
    // HealthCheckWaitForPendingCommitsWhenPaused.
    expect(s.node.current()).toBe(false);
    // Never campaigns while paused.
    s.node.tick(60_000);
    expect(s.node.state).toBe("follower");
    expect(s.node.resumeApply()).toBe(true);
    drain(s);
    expect(s.node.progress()).toEqual({ index: 2, commit: 1, applied: 1 });
    expect(s.node.resumeApply()).toBe(false);
  });

  it("steps a candidate down when paused", () => {
    const s = solo();
    s.node.tick(10_000);
    drain(s);
    expect(s.node.state).toBe("candidate");
    expect(s.node.pauseApply()).toBe(true);
    expect(s.node.state).toBe("follower");
  });

  it("campaigns on resume when a leader transfer named it while paused", () => {
    const s = solo();
    stepAE(s.node, ae({ entries: [normal("a")] }));
    drain(s);
    s.node.pauseApply();
    const transfer = { type: EntryType.LeaderTransfer, data: enc(N1) };
    stepAE(s.node, ae({ pindex: 1, pterm: 1, commit: 1, entries: [transfer] }));
    drain(s);
    s.node.tick(1_000);
    expect(s.node.state).toBe("follower");
    s.node.resumeApply();
    drain(s);
    expect(s.node.nextDeadline()).toBe(1_010);
    s.node.tick(1_010);
    expect(s.node.state).toBe("candidate");
  });

  it("replays the snapshot and keeps the highest commit (DrainAndReplaySnapshot)", () => {
    const c = new Cluster({ ids: [1, 2, 3].map(nodeId) });
    c.node(N1).campaignImmediately();
    c.advanceTime(50);
    c.stabilize();
    const leader = c.node(N1);
    for (const v of ["a", "b"]) leader.propose(leader.term, enc(v));
    c.stabilize();
    c.advanceTime(50);
    c.stabilize();
    expect(c.node(N2).drainAndReplaySnapshot()).toBe(false);
    c.snapshot(N2);
    c.stabilize();
    leader.propose(leader.term, enc("c"));
    c.stabilize();
    c.advanceTime(50);
    c.stabilize();
    const follower = c.node(N2);
    const high = follower.progress().commit;
    const digest = c.digest(N2);
    const appliedBefore = (c.appliedLog.get(N2) ?? []).length;
    expect(follower.drainAndReplaySnapshot()).toBe(true);
    expect(follower.progress().commit).toBe(high);
    c.stabilize();
    const applied = c.appliedLog.get(N2) ?? [];
    expect(applied[appliedBefore]?.entries[0]?.type).toBe(EntryType.Snapshot);
    follower.resumeApply();
    c.stabilize();
    expect(c.digest(N2)).toBe(digest);
    expect(follower.progress().applied).toBe(high);
  });
});

describe("overrun protection (spec §5.12)", () => {
  it("steps a leader down past the limit of uncommitted entries; the limit itself is fine (LeaderStepsDownIfOverrun)", () => {
    const s = solo({ limits: { overrunEntries: 3, overrunResumeEntries: 1 } });
    makeLeader(s);
    const term = s.node.term;
    for (let i = 0; i < 3; i++) {
      expect(s.node.propose(term, enc(`${i}`)).ok).toBe(true);
      drain(s);
    }
    expect(s.node.progress().index - s.node.progress().commit).toBe(3);
    expect(s.node.propose(term, enc("x")).ok).toBe(true);
    drain(s);
    expect(s.node.propose(term, enc("y"))).toMatchObject({ ok: false, code: "NOT_LEADER" });
    expect(s.node.state).toBe("follower");
  });

  it("pauses quorum participation past the limit and resumes at the resume threshold (FollowerPausesQuorumIfOverrun)", () => {
    const f = lagging({ overrunEntries: 4, overrunResumeEntries: 2 });
    feed(f.node, 1, 6);
    f.flush();
    // commit 5, applied 0: over the limit, so the next append entry is dropped, not acked.
    expect(f.node.progress()).toEqual({ index: 6, commit: 5, applied: 0 });
    f.sent.length = 0;
    feed(f.node, 7, 1);
    f.flush();
    expect(f.node.progress().index).toBe(6);
    expect(frames(f.sent, "appendEntryResponse")).toEqual([]);
    // Lag 3 is still above the resume threshold of 2.
    f.node.applied(2);
    feed(f.node, 7, 1);
    f.flush();
    expect(frames(f.sent, "appendEntryResponse")).toEqual([]);
    f.node.applied(3);
    feed(f.node, 7, 1);
    f.flush();
    expect(f.node.progress().index).toBe(7);
    expect(frames(f.sent, "appendEntryResponse").length).toBe(1);
  });

  it("measures the lag from the snapshot, so a restored node does not underflow", () => {
    const storage = new MemoryStorage();
    const node = createRaftNode({
      id: N1,
      group: "G",
      peers: [N1, N2, N3],
      now: 0,
      random: new Prng(3),
      log: storage,
      snapshot: { term: 1, index: 100, peerState: new Uint8Array(0), data: enc("s") },
      timing: TEST_TIMING,
      limits: { overrunEntries: 4, overrunResumeEntries: 2 },
    });
    const rd = node.ready();
    storage.persist(rd);
    node.advance(rd);
    stepAE(node, ae({ pindex: 100, pterm: 1, commit: 100, entries: [normal("x")] }));
    expect(node.progress().index).toBe(101);
  });

  it("clears the quorum pause when becoming candidate and cancels catchup when pausing", () => {
    const f = lagging({ overrunEntries: 2, overrunResumeEntries: 1 });
    stepAE(f.node, ae({ pindex: 20, pterm: 1, commit: 20 }));
    f.flush();
    const catchup = f.sent.find((m) => m.frame.kind === "appendEntryResponse")?.reply ?? "";
    expect(catchup.startsWith("$NRG.CR.")).toBe(true);
    // Stream 4 entries on the catchup inbox, each committing the one before.
    for (let i = 1; i <= 4; i++) {
      stepAE(
        f.node,
        ae({
          pindex: i - 1,
          pterm: i === 1 ? 0 : 1,
          commit: i - 1,
          lterm: 1,
          entries: [normal(`${i}`)],
        }),
        catchup,
      );
    }
    f.flush();
    expect(f.node.progress().commit).toBe(3);
    // PausingQuorumCancelsCatchup: the next append entry finds the lag too big.
    stepAE(
      f.node,
      ae({ pindex: 4, pterm: 1, commit: 4, lterm: 1, entries: [normal("5")] }),
      catchup,
    );
    const rd = f.node.ready();
    expect(rd.unsubscribe).toContain(catchup);
    f.storage.persist(rd);
    f.node.advance(rd);
    // SwitchToCandidateResetsQuorumPaused: after a candidacy, append entries are taken again.
    f.node.applied(3);
    f.node.tick(10_000);
    f.flush();
    expect(f.node.state).toBe("candidate");
    f.sent.length = 0;
    stepAE(
      f.node,
      ae({ term: f.node.term, pindex: 4, pterm: 1, commit: 4, entries: [normal("5")] }),
    );
    f.flush();
    expect(frames(f.sent, "appendEntryResponse")[0]?.response.success).toBe(true);
  });
});

describe("write errors and reset (spec §5.16)", () => {
  it("closes the node on a write error and keeps the error", () => {
    const s = solo();
    makeLeader(s);
    const error = new Error("disk full");
    s.node.reportWriteError(error);
    expect(s.node.state).toBe("closed");
    expect(s.node.writeError()).toBe(error);
    expect(s.node.propose(s.node.term, enc("x"))).toMatchObject({ ok: false, code: "CLOSED" });
  });

  it("wipes all local state on reset (Reset)", () => {
    const s = solo();
    makeLeader(s);
    s.node.propose(s.node.term, enc("a"));
    drain(s);
    ackAll(s, 2);
    drain(s);
    s.node.reset();
    const rd = s.flush();
    expect(rd?.wipe).toBe(true);
    expect(rd?.hardState).toEqual({ term: 0, vote: "" });
    expect(rd?.peerState).toBeDefined();
    expect(s.node.state).toBe("follower");
    expect(s.node.term).toBe(0);
    expect(s.node.progress()).toEqual({ index: 0, commit: 0, applied: 0 });
    expect(s.node.peerNames()).toEqual([N1]);
    expect(s.storage.lastIndex()).toBe(0);
    expect(s.storage.snapshot).toBeUndefined();
  });
});
