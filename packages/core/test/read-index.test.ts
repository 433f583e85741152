import { describe, expect, it } from "vitest";
import { Cluster, nodeId } from "../src/testing/cluster";
import type { ReadState } from "../src/types";
import { ackAll, drain, enc, frames, makeLeader, N1, N2, N3, solo } from "./helpers";

const three = [1, 2, 3].map(nodeId);

/** A 3-node cluster led by n1 that records every `Ready.reads` per node. */
function readCluster(faults = {}): { c: Cluster; reads: Map<string, ReadState[]> } {
  const reads = new Map<string, ReadState[]>();
  const c = new Cluster({
    ids: three,
    faults,
    observer: {
      onReads(id, rs): void {
        reads.set(id, [...(reads.get(id) ?? []), ...rs]);
      },
    },
  });
  c.node(N1).campaignImmediately();
  c.advanceTime(50);
  c.stabilize();
  return { c, reads };
}

describe("read barrier (readIndex)", () => {
  it("confirms a read after a quorum answered a heartbeat on a fresh inbox", () => {
    const s = solo();
    makeLeader(s);
    const commit = s.node.progress().commit;
    const id = s.node.readIndex("q1");
    expect(id).toBe("q1");
    const rd = s.flush();
    expect(rd?.reads).toEqual([]);
    const hb = s.sent.find((m) => m.frame.kind === "appendEntry");
    expect(hb).toBeDefined();
    const inbox = hb?.reply ?? "";
    expect(inbox).not.toBe(s.node.subjects.appendEntryReply);
    expect(rd?.subscribe).toContain(inbox);
    // An acknowledgement on the ordinary reply inbox may predate the round: it does not count.
    ackAll(s, commit, [N2]);
    expect(s.flush()?.reads ?? []).toEqual([]);
    s.node.step({
      subject: inbox,
      reply: "",
      frame: {
        kind: "appendEntryResponse",
        response: { term: s.node.term, index: commit, peer: N3, success: true },
      },
    });
    const done = s.flush();
    expect(done?.reads).toEqual([{ id: "q1", index: commit }]);
    expect(done?.unsubscribe).toContain(inbox);
  });

  it("does not count a failed response toward the round", () => {
    const s = solo();
    makeLeader(s);
    s.node.readIndex("q");
    s.flush();
    const inbox = frames(s.sent, "appendEntry").length > 0 ? s.sent.at(-1)?.reply : undefined;
    expect(inbox).toBeDefined();
    s.node.step({
      subject: inbox ?? "",
      reply: "",
      frame: {
        kind: "appendEntryResponse",
        response: { term: s.node.term, index: 0, peer: N2, success: false },
      },
    });
    expect(s.flush()?.reads ?? []).toEqual([]);
  });

  it("fails a read on a follower with NOT_LEADER", () => {
    const s = solo();
    s.node.readIndex("f");
    expect(s.flush()?.reads).toEqual([{ id: "f", index: 0, code: "NOT_LEADER" }]);
  });

  it("fails waiting reads when leadership ends, and when the node closes", () => {
    const s = solo();
    makeLeader(s);
    s.node.readIndex("a");
    s.flush();
    s.node.stepDown();
    const rd = s.flush();
    expect(rd?.reads).toEqual([{ id: "a", index: 0, code: "NOT_LEADER" }]);
    s.node.close();
    s.node.readIndex("b");
    expect(s.flush()?.reads).toEqual([{ id: "b", index: 0, code: "CLOSED" }]);
  });

  it("confirms at once in a single-node group", () => {
    const s = solo({ peers: [N1] });
    s.node.campaignImmediately();
    s.node.tick(s.node.nextDeadline());
    drain(s);
    expect(s.node.isLeader()).toBe(true);
    s.node.readIndex("x");
    expect(s.flush()?.reads).toEqual([{ id: "x", index: s.node.progress().commit }]);
  });

  it("serves a read at the commit index once a quorum confirmed it, in a cluster", () => {
    const { c, reads } = readCluster();
    const leader = c.node(N1);
    leader.propose(leader.term, enc("w"));
    c.stabilize();
    const commit = leader.progress().commit;
    leader.readIndex("r");
    c.stabilize();
    expect(reads.get(N1)).toEqual([{ id: "r", index: commit }]);
  });

  it("never confirms a read on a partitioned old leader while a new leader commits", () => {
    const { c, reads } = readCluster();
    c.partition([[N1], [N2, N3]]);
    // The majority side elects a new leader and commits a write the old leader never sees.
    c.node(N2).campaignImmediately();
    c.advanceTime(50);
    c.stabilize();
    const fresh = c.node(N2);
    expect(fresh.state).toBe("leader");
    fresh.propose(fresh.term, enc("new"));
    c.stabilize();
    const old = c.node(N1);
    expect(old.state).toBe("leader");
    old.readIndex("stale");
    for (let i = 0; i < 40 && old.state === "leader"; i++) {
      c.advanceTime(50);
      c.stabilize();
      expect(reads.get(N1) ?? []).toEqual([]);
    }
    for (let i = 0; i < 120; i++) {
      c.advanceTime(50);
      c.stabilize();
    }
    // Lost quorum: the old leader stepped down and the read failed; it was never confirmed.
    expect(old.state).not.toBe("leader");
    expect(reads.get(N1)).toEqual([{ id: "stale", index: 0, code: "NOT_LEADER" }]);
    // The new leader confirms at its commit index, which includes the new write.
    expect(fresh.state).toBe("leader");
    fresh.readIndex("ok");
    c.stabilize();
    expect(reads.get(N2)).toEqual([{ id: "ok", index: fresh.progress().commit }]);
  });

  it("serves a stale read with the planted bug serveReadsWithoutQuorum", () => {
    const { c, reads } = readCluster({ serveReadsWithoutQuorum: true });
    c.partition([[N1], [N2, N3]]);
    c.node(N2).campaignImmediately();
    c.advanceTime(50);
    c.stabilize();
    const fresh = c.node(N2);
    fresh.propose(fresh.term, enc("new"));
    c.stabilize();
    const old = c.node(N1);
    old.readIndex("stale");
    c.stabilize();
    const served = reads.get(N1)?.[0];
    expect(served?.code).toBeUndefined();
    expect(served?.index).toBeLessThan(fresh.progress().commit);
  });
});
