import { describe, expect, it } from "vitest";
import { createRaftNode } from "../src/node";
import { Cluster, nodeId, TEST_TIMING } from "../src/testing/cluster";
import type { MemoryStorage } from "../src/testing/memory-storage";
import { Prng } from "../src/testing/prng";
import type { RaftNode, RaftNodeOptions } from "../src/types";
import { ae, enc, frames, N1, N2, N3, normal, records, solo, stepAE } from "./helpers";

const three = [1, 2, 3].map(nodeId);

function electedCluster(): Cluster {
  const c = new Cluster({ ids: three });
  c.node(N1).campaignImmediately();
  c.advanceTime(50);
  c.stabilize();
  return c;
}

function settle(c: Cluster, rounds = 10): void {
  for (let i = 0; i < rounds; i++) {
    c.advanceTime(50);
    c.stabilize();
  }
}

/** Node n1 started again on `storage`, as after a restart that found local damage. */
function restartOn(storage: MemoryStorage, options: Partial<RaftNodeOptions> = {}): RaftNode {
  return createRaftNode({
    id: N1,
    group: "G",
    peers: [N1, N2, N3],
    now: 0,
    random: new Prng(5),
    log: storage,
    hardState: storage.hardState,
    timing: TEST_TIMING,
    ...options,
  });
}

/** A follower n1 whose storage holds records 1..5 of leader n2 (term 1), records 2..3 damaged. */
function damagedFollower(
  headers: boolean,
  committed = true,
  indexes: readonly number[] = [2, 5],
): { node: RaftNode; storage: MemoryStorage } {
  const s = solo();
  for (let i = 1; i <= 5; i++) {
    const commit = committed ? i - 1 : 0;
    stepAE(
      s.node,
      ae({ pindex: i - 1, pterm: i === 1 ? 0 : 1, commit, entries: [normal(`${i}`)] }),
    );
    s.flush();
  }
  for (const i of indexes) s.storage.damage(i, headers);
  const node = restartOn(s.storage, { damaged: s.storage.damagedRecords() });
  return { node, storage: s.storage };
}

function flush(node: RaftNode, storage: MemoryStorage): ReturnType<RaftNode["ready"]>[] {
  const out = [];
  for (let i = 0; i < 20 && node.hasReady(); i++) {
    const rd = node.ready();
    storage.persist(rd);
    out.push(rd);
    node.advance(rd);
    const last = rd.committed[rd.committed.length - 1];
    if (last !== undefined) node.applied(last.index);
  }
  return out;
}

function voteFor(
  node: RaftNode,
  storage: MemoryStorage,
  request: { term: number; lastTerm: number; lastIndex: number },
): boolean | undefined {
  node.step({
    subject: node.subjects.vote,
    reply: "$NRG.R.CAND",
    frame: { kind: "voteRequest", request: { ...request, candidate: N3 } },
  });
  const votes = flush(node, storage).flatMap((r) => frames(r.messages, "voteResponse"));
  return votes[0]?.response.granted;
}

describe("local damage: protocol-aware recovery (reliability-plan §4)", () => {
  it("never truncates for damage, stops delivering before it, and does not campaign", () => {
    const { node, storage } = damagedFollower(true);
    expect(node.progress().index).toBe(5);
    expect(node.localDamage()).toEqual({ damaged: [2, 5], lostTail: undefined });
    const readies = flush(node, storage);
    // Commit 4 was recovered, but index 2 is damaged: only index 1 is delivered.
    expect(readies.flatMap((r) => r.committed.map((c) => c.index))).toEqual([1]);
    expect(readies.every((r) => r.truncateAfter === undefined)).toBe(true);
    node.tick(60_000);
    expect(node.state).toBe("follower");
  });

  it("keeps using known terms for votes, but grants none while a term is unknown", () => {
    for (const headers of [true, false]) {
      const { node, storage } = damagedFollower(headers);
      flush(node, storage);
      expect(voteFor(node, storage, { term: 2, lastTerm: 1, lastIndex: 5 })).toBe(headers);
    }
  });

  it("takes the term of a record whose header was lost from its successor", () => {
    // Only index 2 lost its header; index 3 is readable and says pterm 1: votes are granted.
    const { node, storage } = damagedFollower(false, true, [2]);
    flush(node, storage);
    expect(voteFor(node, storage, { term: 2, lastTerm: 1, lastIndex: 5 })).toBe(true);
  });

  it("asks the leader for the damaged records and overwrites them in place", () => {
    const { node, storage } = damagedFollower(false);
    flush(node, storage);
    stepAE(node, ae({ term: 1, pindex: 5, pterm: 1, commit: 5 }));
    const request = flush(node, storage)
      .flatMap((r) => r.messages)
      .find((m) => m.frame.kind === "appendEntryResponse");
    expect(request?.reply.startsWith("$NRG.CR.")).toBe(true);
    const f = request?.frame;
    if (f?.kind !== "appendEntryResponse") throw new Error("no repair request");
    expect(f.response).toMatchObject({ index: 1, term: 1, success: false });
    // The leader streams from index 2 with lterm.
    for (let i = 2; i <= 5; i++) {
      stepAE(
        node,
        ae({ pindex: i - 1, pterm: 1, commit: i - 1, lterm: 1, entries: [normal(`${i}`)] }),
        request?.reply,
      );
    }
    const after = flush(node, storage);
    expect(after.flatMap((r) => r.repair.map((x) => x.index))).toEqual([2, 5]);
    expect(storage.damagedRecords()).toEqual([]);
    expect(storage.entry(2)).toBeDefined();
    // Committed entries past the repaired record are delivered now (commit 3 was recovered).
    expect(after.flatMap((r) => r.committed.map((c) => c.index))).toEqual([2, 3]);
    stepAE(node, ae({ term: 1, pindex: 5, pterm: 1, commit: 5, entries: [normal("6")] }));
    const next = flush(node, storage);
    expect(next.flatMap((r) => r.committed.map((c) => c.index))).toEqual([4, 5]);
    const acks = next.flatMap((r) => frames(r.messages, "appendEntryResponse"));
    expect(acks.at(-1)?.response).toMatchObject({ index: 6, success: true });
  });

  it("resolves a damaged record that differs from the leader's like any conflict", () => {
    const { node, storage } = damagedFollower(true, false);
    flush(node, storage);
    stepAE(node, ae({ leader: N3, term: 2, pindex: 6, pterm: 2, commit: 1 }));
    const request = flush(node, storage)
      .flatMap((r) => r.messages)
      .find((m) => m.reply.startsWith("$NRG.CR."));
    // The new leader's index 2 is of term 2: our damaged (term 1) record 2 was never committed.
    stepAE(
      node,
      ae({ leader: N3, term: 2, pindex: 1, pterm: 1, commit: 1, lterm: 2, entries: [normal("x")] }),
      request?.reply,
    );
    const rd = flush(node, storage);
    expect(rd.some((r) => r.truncateAfter === 1)).toBe(true);
    expect(storage.record(2)?.term).toBe(2);
    expect(storage.damagedRecords()).toEqual([]);
  });

  it("repairs a member of a cluster after a bit flip in a committed record", () => {
    const c = electedCluster();
    const leader = c.node(N1);
    for (const v of ["a", "b", "c"]) leader.propose(leader.term, enc(v));
    c.stabilize();
    settle(c);
    c.crash(N2);
    expect(c.storage(N2).damage(2, false)).toBe(true);
    c.restart(N2);
    leader.propose(leader.term, enc("d"));
    settle(c, 20);
    expect(c.storage(N2).damagedRecords()).toEqual([]);
    expect(records(c.storage(N2))).toEqual(records(c.storage(N1)));
    expect(c.digest(N2)).toBe(c.digest(N1));
  });

  it("drops the damaged records covered by the leader's snapshot when it compacted past them", () => {
    const c = electedCluster();
    const leader = c.node(N1);
    for (const v of ["a", "b", "c"]) leader.propose(leader.term, enc(v));
    c.stabilize();
    settle(c);
    c.crash(N2);
    c.storage(N2).damage(1, true);
    c.snapshot(N1);
    c.snapshot(N3);
    c.stabilize();
    c.restart(N2);
    settle(c, 20);
    expect(c.storage(N2).damagedRecords()).toEqual([]);
    expect(c.storage(N2).firstIndex()).toBeGreaterThan(1);
    expect(c.digest(N2)).toBe(c.digest(N1));
  });
});

/** A follower n1 restarted on records 1..4 of leader n2 (term 1), told it lost `lostTail`. */
function lostTailFollower(
  lostTail: { index: number; term: number },
  peers: readonly string[] = [N1, N2, N3],
): { node: RaftNode; storage: MemoryStorage } {
  const s = solo({ peers: [...peers] });
  for (let i = 1; i <= 4; i++) {
    stepAE(s.node, ae({ pindex: i - 1, pterm: i === 1 ? 0 : 1, entries: [normal(`${i}`)] }));
    s.flush();
  }
  const node = restartOn(s.storage, { peers: [...peers], lostTail });
  flush(node, s.storage);
  return { node, storage: s.storage };
}

describe("lost tail: synced records the store no longer has (WAL recovery.lostTail)", () => {
  it("does not campaign while its log is behind the lost tail", () => {
    const { node } = lostTailFollower({ index: 6, term: 1 });
    node.tick(60_000);
    node.tick(120_000);
    expect(node.state).toBe("follower");
  });

  it("votes as the node that stored the lost records would have", () => {
    // Behind the lost log (1, 6): refused, although it is as up to date as the stored (1, 4).
    const a = lostTailFollower({ index: 6, term: 1 });
    expect(voteFor(a.node, a.storage, { term: 2, lastTerm: 1, lastIndex: 4 })).toBe(false);
    // At least as up to date as the lost log: granted.
    const b = lostTailFollower({ index: 6, term: 1 });
    expect(voteFor(b.node, b.storage, { term: 2, lastTerm: 1, lastIndex: 6 })).toBe(true);
    const c = lostTailFollower({ index: 6, term: 1 });
    expect(voteFor(c.node, c.storage, { term: 3, lastTerm: 2, lastIndex: 3 })).toBe(true);
  });

  it("is released once the leader has re-sent the lost records", () => {
    const { node, storage } = lostTailFollower({ index: 6, term: 1 });
    expect(node.localDamage()).toEqual({ damaged: [], lostTail: { index: 6, term: 1 } });
    stepAE(node, ae({ pindex: 4, pterm: 1, entries: [normal("5")] }));
    flush(node, storage);
    expect(node.localDamage().lostTail).toEqual({ index: 6, term: 1 });
    for (const i of [6]) {
      stepAE(node, ae({ pindex: i - 1, pterm: 1, entries: [normal(`${i}`)] }));
      flush(node, storage);
    }
    expect(node.localDamage().lostTail).toBeUndefined();
    expect(voteFor(node, storage, { term: 2, lastTerm: 1, lastIndex: 6 })).toBe(true);
    node.tick(120_000);
    flush(node, storage);
    expect(node.state).not.toBe("follower");
  });

  it("is released by an entry of a newer term, which a leader holding every committed entry wrote", () => {
    const { node, storage } = lostTailFollower({ index: 9, term: 1 });
    stepAE(node, ae({ term: 2, pindex: 4, pterm: 1, entries: [normal("5")] }));
    flush(node, storage);
    node.tick(120_000);
    flush(node, storage);
    expect(node.state).not.toBe("follower");
  });

  it("is ignored when the stored log is already as up to date, or no one else could re-send it", () => {
    for (const [tail, peers] of [
      [{ index: 3, term: 1 }, [N1, N2, N3]],
      [{ index: 4, term: 1 }, [N1, N2, N3]],
      [{ index: 9, term: 5 }, [N1]],
    ] as const) {
      const { node, storage } = lostTailFollower(tail, peers);
      node.tick(120_000);
      flush(node, storage);
      expect(node.state, JSON.stringify(tail)).not.toBe("follower");
    }
  });

  it("rejects a malformed lost tail", () => {
    expect(() => restartOn(solo().storage, { lostTail: { index: -1, term: 1 } })).toThrow(
      /lostTail/,
    );
  });
});
