import { describe, expect, it } from "vitest";
import { Cluster, type Envelope, nodeId } from "../src/testing/cluster";
import { InvariantChecker } from "../src/testing/invariants";
import type { UnsafeTestingFaults } from "../src/types";

const [N1, N2, N3] = [1, 2, 3].map(nodeId) as [string, string, string];

/** Handle Readies and deliver only messages `keep` accepts (others are dropped), until quiet. */
function settle(c: Cluster, keep: (e: Envelope) => boolean = () => true): void {
  for (let round = 0; round < 100; round++) {
    let busy = false;
    for (const id of c.ids) while (c.isUp(id) && c.processReady(id)) busy = true;
    while (c.network.length > 0) {
      const e = c.network[0] as Envelope;
      if (keep(e)) c.deliver(0);
      else c.drop(0);
      busy = true;
    }
    if (!busy) return;
  }
}

/**
 * Raft paper Figure 8 in NRG form. n1 leads term 1 and appends x at index 2 alone; n3 wins term 2
 * with n2's vote but its no-op never reaches n2; n1 wins term 3 with n2's vote and streams x to n2
 * as a catchup entry. If n1 committed x now because n2 holds it (an older-term entry counted by
 * replicas), n3 — whose last term 2 beats x's term 1 — could still be elected by n2 and overwrite
 * it. The invariant checker flags that moment.
 */
function figure8(faults: UnsafeTestingFaults): InvariantChecker {
  const checker = new InvariantChecker();
  const c = new Cluster({ ids: [N1, N2, N3], observer: checker, faults });
  checker.attach(c);
  c.node(N1).campaignImmediately();
  c.advanceTime(50);
  settle(c);
  c.advanceTime(50);
  settle(c);
  // n1 appends x (term 1, index 2) alone.
  c.partition([[N1], [N2, N3]]);
  c.node(N1).propose(c.node(N1).term, Uint8Array.of(120));
  settle(c);
  // n3 wins term 2 with n2's vote; its no-op (term 2, index 2) never reaches n2.
  c.node(N3).campaignImmediately();
  c.advanceTime(50);
  settle(c, (e) => e.message.frame.kind !== "appendEntry");
  expect(c.node(N3).state).toBe("leader");
  // n1 (still leading term 1 alone) steps down and wins term 3 with n2's vote, n3 cut off: its
  // term-2 candidacy is refused by n2, which voted for n3 in term 2.
  c.partition([[N1, N2], [N3]]);
  c.node(N1).stepDown();
  for (let attempt = 0; attempt < 2; attempt++) {
    c.node(N1).campaignImmediately();
    c.advanceTime(50);
    settle(c, (e) => e.message.frame.kind !== "appendEntry");
  }
  expect(c.node(N1).state).toBe("leader");
  expect(c.node(N1).term).toBe(3);
  // n1's next heartbeat shows n2 it is behind; n2 asks for a catchup, and only the first
  // catchup entry (x) reaches it.
  c.advanceTime(50);
  let catchups = 0;
  settle(c, (e) => !e.message.subject.startsWith("$NRG.CR.") || catchups++ === 0);
  checker.checkStep();
  return checker;
}

describe("Figure 8 (Raft §5.4.2) in NRG form", () => {
  it("commits nothing from an older term by counting replicas", () => {
    expect(figure8({}).violations).toEqual([]);
  });

  it("is flagged by the checker with the planted bug commitOlderTermByCount", () => {
    const v = figure8({ commitOlderTermByCount: true }).violations;
    expect(v[0]?.invariant).toBe("leader-completeness");
  });
});
