import { describe, expect, it } from "vitest";
import { Cluster, nodeId } from "../src/testing/cluster";
import {
  ackAll,
  ae,
  drain,
  enc,
  frames,
  grantVotes,
  makeLeader,
  N1,
  N2,
  N3,
  N4,
  N5,
  normal,
  solo,
  stepAE,
} from "./helpers";

describe("quorum and commit (spec §8.3)", () => {
  it("needs two follower acks when the quorum is 3 of 5 (QuorumAccounting)", () => {
    const s = solo({ peers: [N1, N2, N3, N4, N5] });
    s.node.campaignImmediately();
    s.node.tick(50);
    drain(s);
    grantVotes(s, 1);
    drain(s);
    expect(s.node.state).toBe("leader");
    ackAll(s, 1, [N2]);
    drain(s);
    expect(s.node.progress().commit).toBe(0);
    ackAll(s, 1, [N3]);
    drain(s);
    expect(s.node.progress().commit).toBe(1);
  });

  it("counts its own ack only after the shell reported the write durable", () => {
    const s = solo({ peers: [N1, N2, N3] });
    makeLeader(s);
    s.node.propose(s.node.term, enc("x"));
    const rd = s.node.ready();
    const index = rd.append[0]?.index ?? -1;
    expect(rd.messages.find((m) => m.frame.kind === "appendEntry")?.afterPersist).toBe(false);
    ackAll(s, index, [N2]);
    // One follower + the leader would be a quorum, but the leader's write is not durable yet.
    expect(s.node.progress().commit).toBe(index - 1);
    s.storage.persist(rd);
    s.node.advance(rd);
    expect(s.node.progress().commit).toBe(index);
  });

  it("discards acks collected during an earlier leadership (RevalidateQuorumAfterLeaderChange)", () => {
    const s = solo();
    makeLeader(s);
    s.node.propose(s.node.term, enc("x"));
    drain(s);
    s.node.stepDown();
    drain(s);
    s.node.campaignImmediately();
    s.node.tick(s.node.nextDeadline());
    drain(s);
    grantVotes(s, 2);
    drain(s);
    // A late term-1 ack of index 2 from the first leadership does not commit anything now.
    s.node.step({
      subject: s.node.subjects.appendEntryReply,
      reply: "",
      frame: {
        kind: "appendEntryResponse",
        response: { term: 1, index: 2, peer: N3, success: true },
      },
    });
    drain(s);
    expect(s.node.progress().commit).toBe(1);
  });

  it("commits an inherited entry through the acks of its own no-op (AppendEntryCanEstablishQuorumAfterLeaderChange)", () => {
    const c = new Cluster({ ids: [1, 2, 3].map(nodeId) });
    c.node(N1).campaignImmediately();
    c.advanceTime(50);
    c.stabilize();
    c.partition([[N1, N2], [N3]]);
    c.node(N1).propose(c.node(N1).term, enc("inherited"));
    // n2 stores it, but n1 crashes before it learns the ack.
    c.processReady(N1);
    c.deliver(0);
    c.processReady(N2);
    c.crash(N1);
    c.heal();
    for (let i = 0; i < 100 && c.leader() === undefined; i++) {
      c.advanceTime(100);
      c.stabilize();
    }
    expect(c.leader()?.id).toBe(N2);
    c.advanceTime(50);
    c.stabilize();
    expect(c.appliedData(N2).map((d) => String.fromCharCode(...d))).toEqual(["inherited"]);
  });

  it("ignores acks that arrive after stepping down (IgnoreTrackResponseWhenNotLeader)", () => {
    const s = solo();
    makeLeader(s);
    s.node.propose(s.node.term, enc("x"));
    drain(s);
    s.node.stepDown();
    drain(s);
    ackAll(s, 2);
    drain(s);
    expect(s.node.progress().commit).toBe(1);
  });

  it("steps down without quorum and counts vote traffic as activity (LostQuorum)", () => {
    const s = solo();
    makeLeader(s);
    expect(s.node.quorum()).toBe(true);
    // Keep n2 active through vote requests only, n3 stays silent.
    for (let t = 1_000; t <= 5_000; t += 1_000) {
      s.node.tick(t);
      s.node.step({
        subject: s.node.subjects.vote,
        reply: "",
        frame: {
          kind: "voteRequest",
          request: { term: s.node.term, lastTerm: 0, lastIndex: 0, candidate: N2 },
        },
      });
      drain(s);
    }
    s.node.tick(6_000);
    expect(s.node.quorum()).toBe(true);
    expect(s.node.state).toBe("leader");
    s.node.tick(12_000);
    drain(s);
    expect(s.node.quorum()).toBe(false);
    expect(s.node.state).toBe("follower");
  });

  it("reports peers after a handoff: the new leader tracks everyone (QuorumAfterLeaderStepdown)", () => {
    const c = new Cluster({ ids: [1, 2, 3].map(nodeId) });
    c.node(N1).campaignImmediately();
    c.advanceTime(50);
    c.stabilize();
    c.advanceTime(50);
    c.stabilize();
    c.node(N1).stepDown(N2);
    c.stabilize();
    c.advanceTime(10);
    c.stabilize();
    c.advanceTime(50);
    c.stabilize();
    const leader = c.node(N2);
    expect(leader.isLeader()).toBe(true);
    expect(leader.quorum()).toBe(true);
    const peers = leader.peers();
    expect(peers.map((p) => p.id).sort()).toEqual([N1, N2, N3]);
    for (const p of peers) expect(p.current).toBe(true);
    expect(c.node(N1).leaderId).toBe(N2);
  });

  it("never acknowledges catchup entries, then acks the next new append entry (CatchupDontCountTowardQuorum)", () => {
    const s = solo();
    stepAE(s.node, ae({ term: 1, pterm: 1, pindex: 2, commit: 2 }));
    const inbox = drain(s).find((m) => m.frame.kind === "appendEntryResponse")?.reply ?? "";
    stepAE(s.node, ae({ term: 1, lterm: 1, entries: [normal("a")] }), inbox);
    stepAE(s.node, ae({ term: 1, lterm: 1, pterm: 1, pindex: 1, entries: [normal("b")] }), inbox);
    expect(frames(drain(s), "appendEntryResponse")).toEqual([]);
    stepAE(s.node, ae({ term: 1, pterm: 1, pindex: 2, commit: 2 }));
    const acks = frames(drain(s), "appendEntryResponse");
    expect(acks.map((a) => a.response)).toEqual([{ term: 1, index: 2, peer: N1, success: true }]);
  });

  it("does not ack delayed new append entries while catching up (DelayedMessagesAfterCatchupDontCountTowardQuorum)", () => {
    const s = solo();
    stepAE(s.node, ae({ term: 1, pterm: 1, pindex: 2 }));
    drain(s);
    stepAE(s.node, ae({ term: 1, pterm: 1, pindex: 3, entries: [normal("late")] }));
    stepAE(s.node, ae({ term: 1, pterm: 1, pindex: 0, entries: [normal("late")] }));
    expect(frames(drain(s), "appendEntryResponse")).toEqual([]);
    expect(s.storage.lastIndex()).toBe(0);
  });

  it("commits at once in a single-node group when its own write is durable", () => {
    const s = solo({ peers: [N1] });
    s.node.campaignImmediately();
    s.node.tick(60);
    drain(s);
    s.node.propose(s.node.term, enc("x"));
    drain(s);
    expect(s.node.progress().commit).toBe(2);
  });
});
