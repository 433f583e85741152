import { describe, expect, it } from "vitest";
import { createRaftNode } from "../src/index";
import { MemoryStorage, Prng } from "../src/testing/index";

describe("README example", () => {
  it("elects a single node and commits a proposal through the Ready loop", () => {
    const storage = new MemoryStorage();
    const node = createRaftNode({
      id: "S1Nunr6R",
      group: "_meta_",
      peers: ["S1Nunr6R"],
      now: 0,
      random: new Prng(1),
      log: storage,
      hardState: storage.hardState,
    });
    const loop = (): void => {
      for (let i = 0; i < 10 && node.hasReady(); i++) {
        const rd = node.ready();
        storage.persist(rd);
        for (const c of rd.committed) node.applied(c.index);
        node.advance(rd);
      }
    };
    node.campaignImmediately();
    node.tick(50);
    loop();
    expect(node.isLeader()).toBe(true);
    expect(node.propose(node.term, new Uint8Array([1, 2, 3])).ok).toBe(true);
    loop();
    expect(node.progress()).toEqual({ index: 2, commit: 2, applied: 2 });
  });
});
