import { fc, test } from "@fast-check/vitest";
import {
  encodeAppendEntry,
  encodeAppendEntryResponse,
  encodeVoteRequest,
  encodeVoteResponse,
} from "@raft/codec";
import { describe, expect, it } from "vitest";
import { createRaftNode } from "../src/node";
import { Prng } from "../src/testing/prng";
import { ae, drain, LEADER_INBOX, makeLeader, N2, normal, solo } from "./helpers";

describe("RaftNode.step with encoded bytes", () => {
  it("decodes append entries, stores the received bytes and answers in bytes", () => {
    const s = solo();
    const bytes = encodeAppendEntry(ae({ term: 1, entries: [normal("a")] }), {
      dialect: "current",
    });
    s.node.step({ subject: s.node.subjects.appendEntry, reply: LEADER_INBOX, bytes });
    const sent = drain(s);
    expect(s.storage.entry(1)).toBe(bytes);
    expect(sent[0]?.data).toEqual(
      encodeAppendEntryResponse({ term: 1, index: 1, peer: s.node.id, success: true }),
    );
  });

  it("decodes vote requests and vote responses", () => {
    const s = solo();
    s.node.step({
      subject: s.node.subjects.vote,
      reply: "$NRG.R.CANDIDIN",
      bytes: encodeVoteRequest({ term: 3, lastTerm: 0, lastIndex: 0, candidate: N2 }),
    });
    const sent = drain(s);
    expect(s.storage.hardState).toEqual({ term: 3, vote: N2 });
    expect(sent[0]?.frame).toMatchObject({ kind: "voteResponse", response: { granted: true } });
    const leader = solo();
    makeLeader(leader);
    leader.node.step({
      subject: leader.node.subjects.voteReply,
      reply: "",
      bytes: encodeVoteResponse({ term: 99, peer: N2, granted: false, empty: false }),
    });
    expect(leader.node.term).toBe(99);
    expect(leader.node.state).toBe("follower");
  });

  it("encodes vote responses without the empty bit in the v2.9 dialect", () => {
    const s = solo({ dialect: "v2.9" });
    s.node.step({
      subject: s.node.subjects.vote,
      reply: "$NRG.R.CANDIDIN",
      bytes: encodeVoteRequest({ term: 1, lastTerm: 0, lastIndex: 0, candidate: N2 }),
    });
    const sent = drain(s);
    expect(sent[0]?.data[16]).toBe(1);
  });

  it("drops messages on foreign subjects and counts them", () => {
    const s = solo();
    s.node.step({ subject: "$NRG.AE.other", reply: "", bytes: new Uint8Array(42) });
    s.node.step({ subject: "foo", reply: "", bytes: new Uint8Array(1) });
    expect(s.node.stats().droppedInvalid).toBe(2);
  });

  test.prop([fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 4 })], { numRuns: 500 })(
    "never throws on random bytes and leaves the node consistent",
    (bytes, which) => {
      const s = solo();
      makeLeader(s);
      const subj = s.node.subjects;
      const subject = [
        subj.appendEntry,
        subj.vote,
        subj.voteReply,
        subj.appendEntryReply,
        subj.proposal,
      ][which] as string;
      const before = s.node.progress();
      s.node.step({ subject, reply: "", bytes });
      drain(s);
      const after = s.node.progress();
      expect(after.commit).toBeGreaterThanOrEqual(before.commit);
      expect(s.node.term).toBeGreaterThanOrEqual(1);
    },
  );
});

describe("Ready contract", () => {
  it("refuses a second ready() before advance and an advance of a foreign batch", () => {
    const s = solo();
    s.node.campaignImmediately();
    s.node.tick(50);
    const rd = s.node.ready();
    expect(() => s.node.ready()).toThrow(expect.objectContaining({ code: "READY_IN_FLIGHT" }));
    expect(() => s.node.advance({ ...rd })).toThrow(
      expect.objectContaining({ code: "NOT_IN_FLIGHT" }),
    );
    s.node.advance(rd);
    expect(s.node.hasReady()).toBe(false);
  });

  it("marks vote and append-entry responses afterPersist and leader append entries not", () => {
    const s = solo();
    s.node.step({
      subject: s.node.subjects.appendEntry,
      reply: LEADER_INBOX,
      frame: { kind: "appendEntry", appendEntry: ae({ term: 1, entries: [normal("a")] }) },
    });
    const rd = s.node.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: "" });
    expect(rd.append.map((r) => [r.index, r.term])).toEqual([[1, 1]]);
    expect(rd.messages.map((m) => [m.frame.kind, m.afterPersist])).toEqual([
      ["appendEntryResponse", true],
    ]);
    s.storage.persist(rd);
    s.node.advance(rd);
    const l = solo();
    makeLeader(l);
    l.node.propose(l.node.term, new Uint8Array([1]));
    const lr = l.node.ready();
    expect(lr.messages.map((m) => [m.frame.kind, m.afterPersist])).toEqual([
      ["appendEntry", false],
    ]);
    expect(lr.append).toHaveLength(1);
    expect(lr.append[0]?.data).toBe(lr.messages[0]?.data);
  });

  it("asks for truncation only of records the shell holds, never below commit", () => {
    const s = solo();
    s.node.step({
      subject: s.node.subjects.appendEntry,
      reply: LEADER_INBOX,
      frame: { kind: "appendEntry", appendEntry: ae({ term: 1, entries: [normal("a")] }) },
    });
    s.node.step({
      subject: s.node.subjects.appendEntry,
      reply: LEADER_INBOX,
      frame: {
        kind: "appendEntry",
        appendEntry: ae({ term: 1, pterm: 1, pindex: 1, entries: [normal("b")] }),
      },
    });
    drain(s);
    // A newer leader without index 2 replaces it.
    s.node.step({
      subject: s.node.subjects.appendEntry,
      reply: LEADER_INBOX,
      frame: {
        kind: "appendEntry",
        appendEntry: ae({
          leader: "n3xxxxxx",
          term: 2,
          pterm: 1,
          pindex: 1,
          entries: [normal("c")],
        }),
      },
    });
    const rd = s.node.ready();
    expect(rd.truncateAfter).toBe(1);
    expect(rd.append.map((r) => [r.index, r.term])).toEqual([[2, 2]]);
    s.storage.persist(rd);
    s.node.advance(rd);
  });
});

describe("storage faults", () => {
  it("throws LOG_UNREADABLE instead of skipping a committed record it cannot read", () => {
    const s = solo({ peers: ["n1xxxxxx"] });
    s.node.campaignImmediately();
    s.node.tick(50);
    drain(s);
    s.node.propose(s.node.term, new Uint8Array([1]));
    drain(s);
    s.node.propose(s.node.term, new Uint8Array([2]));
    drain(s);
    // Restart over a view whose record 2 is damaged (bytes that do not decode).
    const damaged = Object.create(s.storage) as typeof s.storage;
    damaged.entry = (i: number) => (i === 2 ? new Uint8Array([1, 2, 3]) : s.storage.entry(i));
    const node = createRaftNode({
      id: "n1xxxxxx",
      group: "G",
      peers: ["n1xxxxxx"],
      now: 0,
      random: new Prng(1),
      log: damaged,
      hardState: s.storage.hardState,
    });
    expect(node.progress().commit).toBe(2);
    expect(() => node.ready()).toThrow(expect.objectContaining({ code: "LOG_UNREADABLE" }));
  });
});

describe("Ready with a batch in flight", () => {
  it("truncates records handed out in the batch still in flight", () => {
    const s = solo();
    const send = (a: ReturnType<typeof ae>): void =>
      s.node.step({
        subject: s.node.subjects.appendEntry,
        reply: LEADER_INBOX,
        frame: { kind: "appendEntry", appendEntry: a },
      });
    send(ae({ term: 1, entries: [normal("a")] }));
    send(ae({ term: 1, pterm: 1, pindex: 1, entries: [normal("b")] }));
    const r1 = s.node.ready();
    expect(r1.append.map((r) => r.index)).toEqual([1, 2]);
    // While r1 is being persisted, a newer leader replaces index 2.
    send(ae({ leader: "n3xxxxxx", term: 2, pterm: 1, pindex: 1, entries: [normal("c")] }));
    expect(s.node.hasReady()).toBe(false);
    s.storage.persist(r1);
    s.node.advance(r1);
    const r2 = s.node.ready();
    expect(r2.truncateAfter).toBe(1);
    expect(r2.append.map((r) => [r.index, r.term])).toEqual([[2, 2]]);
    s.storage.persist(r2);
    s.node.advance(r2);
    expect(s.storage.lastIndex()).toBe(2);
    expect(s.storage.term(2)).toBe(2);
  });
});
