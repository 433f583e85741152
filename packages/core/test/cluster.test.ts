import { describe, expect, it } from "vitest";
import { Cluster, nodeId } from "../src/testing/cluster";
import { InteractionEnv, parseScript, renderScript } from "../src/testing/interaction";
import { Prng } from "../src/testing/prng";

const ids = [1, 2, 3].map(nodeId);
const [N1, N2] = ids as [string, string, string];

function elected(): Cluster {
  const c = new Cluster({ ids });
  c.node(N1).campaignImmediately();
  c.advanceTime(50);
  c.stabilize();
  return c;
}

describe("Cluster (testing harness)", () => {
  it("loses what a node did not persist when it crashes before persisting", () => {
    const c = elected();
    const leader = c.node(N1);
    leader.propose(leader.term, new Uint8Array([1]));
    const before = c.storage(N1).lastIndex();
    c.processReady(N1, true);
    expect(c.isUp(N1)).toBe(false);
    expect(c.storage(N1).lastIndex()).toBe(before);
    // The append entry left before the crash, as the contract allows.
    expect(c.network.some((e) => e.message.frame.kind === "appendEntry")).toBe(true);
    c.restart(N1);
    expect(c.node(N1).progress().index).toBe(before);
  });

  it("drops messages across a partition and delivers them after healing", () => {
    const c = elected();
    c.partition([[N1], [N2, nodeId(3)]]);
    c.node(N1).propose(c.node(N1).term, new Uint8Array([1]));
    c.stabilize();
    expect(c.storage(N2).lastIndex()).toBe(1);
    c.heal();
    c.advanceTime(50);
    c.stabilize();
    c.advanceTime(50);
    c.stabilize();
    expect(c.storage(N2).lastIndex()).toBe(2);
  });

  it("duplicates a message in flight", () => {
    const c = elected();
    c.node(N1).propose(c.node(N1).term, new Uint8Array([1]));
    c.processReady(N1);
    const n = c.network.length;
    c.duplicate(0);
    expect(c.network.length).toBe(n + 1);
    c.stabilize();
    expect(c.storage(N2).lastIndex()).toBe(2);
  });

  it("is deterministic for a seed", () => {
    const a = new Prng(9);
    const b = new Prng(9);
    for (let i = 0; i < 10; i++) expect(a.nextUint32()).toBe(b.nextUint32());
    expect(new Prng(10).nextUint32()).not.toBe(new Prng(9).nextUint32());
  });
});

describe("interaction scripts", () => {
  it("parses and renders a script round trip", () => {
    const text = "# c\ncluster 2\n----\n2 nodes: n1 n2\n\nstatus\n----\nx\ny\n";
    const parsed = parseScript(text);
    expect(parsed.blocks.map((b) => b.command)).toEqual([
      { name: "cluster", args: ["2"] },
      { name: "status", args: [] },
    ]);
    expect(
      renderScript(
        parsed,
        parsed.blocks.map((b) => b.expected),
      ),
    ).toBe(text);
  });

  it("reports unknown commands", () => {
    expect(() => new InteractionEnv().run({ name: "nope", args: [] })).toThrow(/unknown command/);
  });
});
