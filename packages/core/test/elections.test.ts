import { EntryType } from "@raft/codec";
import { describe, expect, it } from "vitest";
import { Cluster, nodeId } from "../src/testing/cluster";
import { MemoryStorage } from "../src/testing/memory-storage";
import type { RaftNode } from "../src/types";
import {
  ae,
  drain,
  enc,
  frames,
  grantVotes,
  LEADER_INBOX,
  makeLeader,
  N1,
  N2,
  N3,
  normal,
  solo,
  stepAE,
} from "./helpers";

const three = [1, 2, 3].map(nodeId);

function voteRequest(
  node: RaftNode,
  term: number,
  lastTerm: number,
  lastIndex: number,
  candidate = N2,
) {
  node.step({
    subject: node.subjects.vote,
    reply: "$NRG.R.CANDIDIN",
    frame: { kind: "voteRequest", request: { term, lastTerm, lastIndex, candidate } },
  });
}

describe("elections and terms (spec §8.3)", () => {
  it("bumps the term on a new election and every follower grants in it (SimpleElection)", () => {
    const c = new Cluster({ ids: three });
    c.node(N1).campaignImmediately();
    c.advanceTime(50);
    c.stabilize();
    const term = c.node(N1).term;
    c.node(N1).stepDown(N2);
    c.stabilize();
    c.advanceTime(10);
    c.stabilize();
    expect(c.node(N2).state).toBe("leader");
    expect(c.node(N2).term).toBe(term + 1);
    for (const id of three) expect(c.storage(id).hardState).toEqual({ term: term + 1, vote: N2 });
  });

  it("hands leadership to the preferred peer with a LeaderTransfer entry (LeaderTransfer)", () => {
    const c = new Cluster({ ids: three });
    c.node(N1).campaignImmediately();
    c.advanceTime(50);
    c.stabilize();
    c.advanceTime(50);
    c.stabilize();
    expect(c.node(N1).stepDown(N3).ok).toBe(true);
    c.stabilize();
    const last = c.storage(N1).record(c.storage(N1).lastIndex());
    expect(last).toBeDefined();
    c.advanceTime(10);
    c.stabilize();
    expect(c.leader()?.id).toBe(N3);
  });

  it("steps a leader down on a same-term append entry and keeps its vote (StepDownOnSameTermDoesntClearVote)", () => {
    const s = solo();
    makeLeader(s);
    const term = s.node.term;
    stepAE(s.node, ae({ leader: N2, term, pterm: term, pindex: 1, commit: 1 }));
    drain(s);
    expect(s.node.state).toBe("follower");
    expect(s.node.leaderId).toBe(N2);
    expect(s.storage.hardState).toEqual({ term, vote: N1 });
  });

  it("does not reset the election timer on a denied vote request (UnsuccessfulVoteRequestDoesntResetElectionTimer)", () => {
    const s = solo();
    stepAE(s.node, ae({ term: 2, entries: [normal("x")] }));
    drain(s);
    const before = s.node.nextDeadline();
    voteRequest(s.node, 1, 0, 0);
    const sent = drain(s);
    expect(frames(sent, "voteResponse")[0]?.response.granted).toBe(false);
    expect(s.node.nextDeadline()).toBe(before);
  });

  it("campaigns early after denying an outdated candidate, unless it is a candidate (UnsuccessfulVoteRequestCampaignEarly)", () => {
    const s = solo();
    stepAE(s.node, ae({ term: 2, entries: [normal("x")] }));
    drain(s);
    voteRequest(s.node, 3, 1, 5);
    drain(s);
    expect(s.node.term).toBe(3);
    expect(s.node.nextDeadline()).toBeLessThan(800);

    const c = solo();
    c.node.campaignImmediately();
    c.node.tick(50);
    drain(c);
    expect(c.node.state).toBe("candidate");
    const deadline = c.node.nextDeadline();
    voteRequest(c.node, c.node.term, 0, 0);
    drain(c);
    expect(c.node.state).toBe("candidate");
    expect(c.node.nextDeadline()).toBe(deadline);
  });

  it("lifts everyone's term after an isolated candidate returns, without truncation (AssumeHighTermAfterCandidateIsolation)", () => {
    const c = new Cluster({ ids: three });
    c.node(N1).campaignImmediately();
    c.advanceTime(50);
    c.stabilize();
    c.node(N1).propose(c.node(N1).term, enc("keep"));
    c.stabilize();
    c.partition([[N1, N2], [N3]]);
    for (let i = 0; i < 300; i++) {
      c.advanceTime(50);
      c.stabilize();
    }
    const isolatedTerm = c.node(N3).term;
    expect(isolatedTerm).toBeGreaterThan(c.node(N1).term);
    c.heal();
    for (let i = 0; i < 40; i++) {
      c.advanceTime(100);
      c.stabilize();
    }
    const leader = c.leader();
    expect(leader).toBeDefined();
    expect(leader?.term).toBeGreaterThanOrEqual(isolatedTerm);
    expect(c.node(N3).state).not.toBe("candidate");
    for (const id of three)
      expect(c.appliedData(id).map((d) => String.fromCharCode(...d))).toEqual(["keep"]);
  });

  it("keeps committing across repeated leader restarts without truncation (HeartbeatOnLeaderChange)", () => {
    const c = new Cluster({ ids: three });
    let leaderId = N1;
    c.node(N1).campaignImmediately();
    c.advanceTime(50);
    c.stabilize();
    for (let round = 0; round < 5; round++) {
      const leader = c.node(leaderId);
      leader.propose(leader.term, enc(`r${round}`));
      c.stabilize();
      c.advanceTime(50);
      c.stabilize();
      c.crash(leaderId);
      c.restart(leaderId);
      for (let i = 0; i < 100 && c.leader() === undefined; i++) {
        c.advanceTime(100);
        c.stabilize();
      }
      leaderId = c.leader()?.id ?? N1;
    }
    c.advanceTime(50);
    c.stabilize();
    c.advanceTime(50);
    c.stabilize();
    const want = ["r0", "r1", "r2", "r3", "r4"];
    for (const id of three) {
      expect(c.appliedData(id).map((d) => String.fromCharCode(...d))).toEqual(want);
    }
  });

  it("does not lower a candidate's term on an older append entry (CandidateDoesntRevertTermAfterOldAE)", () => {
    const s = solo({ hardState: { term: 5, vote: "" } });
    s.node.campaignImmediately();
    s.node.tick(50);
    drain(s);
    expect(s.node.term).toBe(6);
    stepAE(s.node, ae({ term: 4, pterm: 3, pindex: 0 }));
    const sent = drain(s);
    expect(s.node.term).toBe(6);
    expect(s.node.state).toBe("candidate");
    expect(frames(sent, "appendEntryResponse")[0]?.response).toMatchObject({
      term: 6,
      success: false,
    });
  });

  it("never sets the term back to pterm when starting a catchup (TermDoesntRollBackToPtermOnCatchup)", () => {
    const s = solo();
    stepAE(s.node, ae({ term: 5, pterm: 3, pindex: 10 }));
    const sent = drain(s);
    expect(s.node.term).toBe(5);
    const req = sent.find((m) => m.frame.kind === "appendEntryResponse");
    expect(req?.reply.startsWith("$NRG.CR.")).toBe(true);
    expect(s.storage.hardState.term).toBe(5);
  });

  it("steps down on a higher-term failure response and keeps its log (NoResetOnAppendEntryResponse)", () => {
    const s = solo();
    makeLeader(s);
    const last = s.node.progress().index;
    s.node.step({
      subject: s.node.subjects.appendEntryReply,
      reply: "",
      frame: {
        kind: "appendEntryResponse",
        response: { term: 9, index: 0, peer: N2, success: false },
      },
    });
    drain(s);
    expect(s.node.state).toBe("follower");
    expect(s.node.term).toBe(9);
    expect(s.storage.lastIndex()).toBe(last);
  });

  it("keeps a candidate a candidate on an append entry of an earlier term (CandidateDontStepdownDueToLeaderOfPreviousTerm)", () => {
    const s = solo({ hardState: { term: 3, vote: "" } });
    s.node.campaignImmediately();
    s.node.tick(50);
    drain(s);
    stepAE(s.node, ae({ term: 3 }));
    drain(s);
    expect(s.node.state).toBe("candidate");
  });

  it("rejects a stale-term append entry without truncating or catching up (AEFromOldLeader)", () => {
    const s = solo();
    stepAE(s.node, ae({ term: 2, entries: [normal("a")] }));
    stepAE(s.node, ae({ term: 2, pterm: 2, pindex: 1, entries: [normal("b")] }));
    drain(s);
    stepAE(s.node, ae({ leader: N3, term: 1, pterm: 1, pindex: 0, entries: [normal("old")] }));
    const sent = drain(s);
    expect(s.storage.lastIndex()).toBe(2);
    const r = frames(sent, "appendEntryResponse");
    expect(r).toHaveLength(1);
    expect(r[0]?.response).toMatchObject({ term: 2, success: false });
    expect(sent.every((m) => !m.reply.startsWith("$NRG.CR."))).toBe(true);
  });

  it("never lowers the term when truncating (TermNoDecreaseAfterWALReset, truncation half)", () => {
    const s = solo();
    stepAE(s.node, ae({ term: 2, entries: [normal("a")] }));
    stepAE(s.node, ae({ term: 2, pterm: 2, pindex: 1, entries: [normal("b")] }));
    drain(s);
    stepAE(s.node, ae({ leader: N3, term: 4, pterm: 3, pindex: 1, entries: [normal("c")] }));
    drain(s);
    expect(s.node.term).toBe(4);
    expect(s.storage.lastIndex()).toBe(0);
    expect(s.storage.hardState.term).toBe(4);
  });

  it("rejects append entries of the previous leader after voting in a newer term (RejectNewAppendEntryFromPreviousLeader)", () => {
    const s = solo();
    stepAE(s.node, ae({ term: 1, entries: [normal("a")] }));
    drain(s);
    voteRequest(s.node, 2, 1, 1, N3);
    drain(s);
    expect(s.storage.hardState).toEqual({ term: 2, vote: N3 });
    stepAE(s.node, ae({ term: 1, pterm: 1, pindex: 1, entries: [normal("b")] }));
    const sent = drain(s);
    expect(s.storage.lastIndex()).toBe(1);
    expect(frames(sent, "appendEntryResponse")[0]?.response).toMatchObject({
      term: 2,
      success: false,
    });
  });

  it("drops catchup entries with a stale lterm but tolerates lterm 0 (RejectAppendEntryDuringCatchupFromPreviousLeader)", () => {
    const s = solo({ hardState: { term: 3, vote: "" } });
    stepAE(s.node, ae({ term: 3, pterm: 1, pindex: 2 }));
    const sent = drain(s);
    const inbox = sent.find((m) => m.frame.kind === "appendEntryResponse")?.reply ?? "";
    expect(inbox.startsWith("$NRG.CR.")).toBe(true);
    stepAE(s.node, ae({ term: 1, lterm: 2, entries: [normal("stale")] }), inbox);
    drain(s);
    expect(s.storage.lastIndex()).toBe(0);
    stepAE(s.node, ae({ term: 1, lterm: 0, entries: [normal("old-server")] }), inbox);
    const acks = drain(s);
    expect(s.storage.lastIndex()).toBe(1);
    // Catchup entries are never acknowledged.
    expect(frames(acks, "appendEntryResponse")).toEqual([]);
  });

  it("replays records of old terms at start-up regardless of the stored term (DontRejectAppendEntryFromReplay)", () => {
    const storage = new MemoryStorage();
    const a = solo({}, storage);
    stepAE(a.node, ae({ term: 1, entries: [normal("a")] }));
    stepAE(a.node, ae({ term: 1, pterm: 1, pindex: 1, commit: 1, entries: [normal("b")] }));
    drain(a);
    storage.hardState = { term: 7, vote: N3 };
    const b = solo({}, storage);
    expect(b.node.term).toBe(7);
    expect(b.node.progress()).toEqual({ index: 2, commit: 1, applied: 1 });
  });

  it("switching to candidate raises the term, votes for itself and persists it first (SwitchToCandidateResetsVote)", () => {
    const s = solo({ hardState: { term: 4, vote: N2 } });
    s.node.campaignImmediately();
    s.node.tick(50);
    const rd = s.node.ready();
    expect(rd.hardState).toEqual({ term: 5, vote: N1 });
    expect(rd.messages.every((m) => m.afterPersist)).toBe(true);
    s.storage.persist(rd);
    s.node.advance(rd);
  });

  it("keeps the vote through step-down and leader transfer (MustNotResetVoteOnStepDownOrLeaderTransfer)", () => {
    const s = solo();
    makeLeader(s);
    const term = s.node.term;
    s.node.stepDown(N2);
    drain(s);
    expect(s.storage.hardState).toEqual({ term, vote: N1 });
    expect(s.node.term).toBe(term);
  });

  it("elects itself when it is the only member (SingleNodeElection, part 1 half)", () => {
    const c = new Cluster({ ids: [N1] });
    c.advanceTime(4_000);
    c.stabilize();
    expect(c.node(N1).isLeader()).toBe(true);
  });

  it("publishes no vote request before its self-vote is durable (DoesntRequestVoteOnWriteError)", () => {
    const s = solo();
    s.node.campaignImmediately();
    s.node.tick(50);
    const rd = s.node.ready();
    const votes = rd.messages.filter((m) => m.frame.kind === "voteRequest");
    expect(votes).toHaveLength(1);
    expect(votes[0]?.afterPersist).toBe(true);
    // A shell whose write fails stops here and never sends: nothing else may leave early.
    expect(rd.messages.filter((m) => !m.afterPersist)).toEqual([]);
  });

  it("signals isLeader=false to a node that campaigned immediately and lost (SignalLeadChangeFalseIfCampaignImmediately)", () => {
    const s = solo();
    s.node.campaignImmediately();
    s.node.tick(50);
    drain(s);
    stepAE(s.node, ae({ leader: N2, term: s.node.term }));
    const rd = s.node.ready();
    expect(rd.leadChange).toEqual({ isLeader: false, term: 1 });
    s.storage.persist(rd);
    s.node.advance(rd);
  });

  it("reports leadership only after the no-op was applied (ReportLeaderAfterNoopEntry)", () => {
    const s = solo();
    s.node.campaignImmediately();
    s.node.tick(50);
    drain(s);
    grantVotes(s, 1);
    const rd = drain(s);
    expect(s.node.state).toBe("leader");
    expect(s.node.isLeader()).toBe(false);
    const noop = frames(rd, "appendEntry")[0]?.appendEntry.entries[0];
    expect(noop?.type).toBe(EntryType.PeerState);
    s.node.step({
      subject: s.node.subjects.appendEntryReply,
      reply: "",
      frame: {
        kind: "appendEntryResponse",
        response: { term: 1, index: 1, peer: N2, success: true },
      },
    });
    expect(s.node.isLeader()).toBe(false);
    const r2 = s.node.ready();
    expect(r2.committed.map((c) => c.index)).toEqual([1]);
    s.storage.persist(r2);
    s.node.advance(r2);
    expect(s.node.isLeader()).toBe(false);
    s.node.applied(1);
    expect(s.node.isLeader()).toBe(true);
    expect(s.node.ready().leadChange).toEqual({ isLeader: true, term: 1 });
  });

  it("accepts proposals only in the current term and never in term 0 (TermFencedProposals)", () => {
    const s = solo();
    expect(s.node.propose(0, enc("x")).ok).toBe(false);
    makeLeader(s);
    expect(s.node.propose(0, enc("x"))).toMatchObject({ ok: false, code: "NOT_LEADER" });
    expect(s.node.propose(s.node.term - 1, enc("x")).ok).toBe(false);
    expect(s.node.propose(s.node.term, enc("x")).ok).toBe(true);
  });

  it("commits nothing on a quorum of older-term entries until a current-term entry has quorum (OnlyCommitIfCurrentTerm)", () => {
    const s = solo();
    stepAE(s.node, ae({ term: 1, entries: [normal("old")] }));
    drain(s);
    s.node.campaignImmediately();
    s.node.tick(s.node.nextDeadline());
    drain(s);
    grantVotes(s, 2);
    drain(s);
    expect(s.node.state).toBe("leader");
    // Acks of the term-1 entry at index 1 do not commit it.
    s.node.step({
      subject: s.node.subjects.appendEntryReply,
      reply: "",
      frame: {
        kind: "appendEntryResponse",
        response: { term: 1, index: 1, peer: N2, success: true },
      },
    });
    drain(s);
    expect(s.node.progress().commit).toBe(0);
    // The no-op (term 2, index 2) reaching quorum commits both.
    s.node.step({
      subject: s.node.subjects.appendEntryReply,
      reply: "",
      frame: {
        kind: "appendEntryResponse",
        response: { term: 2, index: 2, peer: N2, success: true },
      },
    });
    drain(s);
    expect(s.node.progress().commit).toBe(2);
  });

  it("replies to a reply subject of the AE inbox of a stale leader with its own term", () => {
    const s = solo({ hardState: { term: 4, vote: "" } });
    stepAE(s.node, ae({ term: 2 }));
    const sent = drain(s);
    expect(sent[0]?.subject).toBe(LEADER_INBOX);
  });

  it("counts empty-log votes only when every member answered (candidate counting, spec §5.4)", () => {
    const s = solo({ peers: [N1, N2, N3] });
    stepAE(s.node, ae({ term: 1, entries: [normal("x")] }));
    drain(s);
    s.node.campaignImmediately();
    s.node.tick(s.node.nextDeadline());
    drain(s);
    const term = s.node.term;
    const vote = (peer: string) =>
      s.node.step({
        subject: s.node.subjects.voteReply,
        reply: "",
        frame: { kind: "voteResponse", response: { term, peer, granted: true, empty: true } },
      });
    vote(N2);
    drain(s);
    expect(s.node.state).toBe("candidate");
    vote(N3);
    drain(s);
    expect(s.node.state).toBe("leader");
  });

  it("reports its vote as empty only when its log is empty and it is not initializing", () => {
    const fresh = solo();
    voteRequest(fresh.node, 1, 0, 0);
    expect(frames(drain(fresh), "voteResponse")[0]?.response.empty).toBe(false);
    const s = solo();
    s.node.campaignImmediately();
    voteRequest(s.node, 5, 0, 0);
    expect(frames(drain(s), "voteResponse")[0]?.response).toMatchObject({
      granted: true,
      empty: true,
    });
  });
});

describe("candidate without quorum", () => {
  it("signals isLeader=false when it keeps failing without quorum for over 20 s", () => {
    const s = solo();
    s.node.campaignImmediately();
    s.node.tick(50);
    drain(s);
    let signalled = 0;
    for (let t = 100; t < 45_000; t += 500) {
      s.node.tick(t);
      for (let i = 0; i < 5 && s.node.hasReady(); i++) {
        const rd = s.node.ready();
        if (rd.leadChange?.isLeader === false) signalled++;
        s.storage.persist(rd);
        s.node.advance(rd);
      }
    }
    expect(s.node.state).toBe("candidate");
    expect(signalled).toBeGreaterThanOrEqual(1);
    expect(signalled).toBeLessThanOrEqual(3);
  });
});
