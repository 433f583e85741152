import { describe, expect, it } from "vitest";
import { openGroupStore } from "../src/index";
import { createFaultyDisk } from "../src/testing/index";
import { records } from "./helpers";

const empty = new Uint8Array(0);

describe("GroupStore reopened after a killed process", () => {
  // A killed process (not a power loss) leaves its last writes and directory entries in the page
  // cache: a reopened store sees them, but they are not durable yet. Building durable state on top
  // of them (a compaction floor above a snapshot whose name is not durable) would let a later
  // power loss keep the floor and lose the snapshot: a compacted log with nothing before it
  // (simulator seed 397 with 5 nodes).
  it("makes a snapshot it found durable before it compacts on top of it", async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const disk = createFaultyDisk({ seed });
      const first = await openGroupStore("/g", { disk });
      await first.append(records(1, 5));
      await first.close();
      // The process dies between the snapshot's rename and the directory fsync.
      const second = await openGroupStore("/g", { disk });
      disk.failNext("EIO", "syncDir");
      await expect(
        second.saveSnapshot({ term: 1, index: 10, peerState: empty, data: new Uint8Array([10]) }),
      ).rejects.toThrow();
      // Restarted on the same page cache: the snapshot is there, and the log moves past it.
      const third = await openGroupStore("/g", { disk });
      expect(third.snapshotMeta, `seed ${seed}`).toEqual({ term: 1, index: 10 });
      await third.compactBefore(11);
      await third.append(records(11, 12));
      // Power loss: whatever the store relied on must have survived with it.
      disk.crash({ tornWrites: true, reorder: true });
      const fourth = await openGroupStore("/g", { disk });
      expect(fourth.firstIndex, `seed ${seed}`).toBe(11);
      expect(fourth.snapshotMeta, `seed ${seed}`).toEqual({ term: 1, index: 10 });
      await fourth.close();
    }
  });

  it("makes term and vote it found durable before acting on them", async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const disk = createFaultyDisk({ seed });
      const first = await openGroupStore("/g", { disk });
      await first.setTermVote({ term: 3, vote: "a" });
      // The process dies after renaming the new copy `a`, before the directory fsync.
      disk.failNext("EIO", "syncDir");
      await expect(first.setTermVote({ term: 4, vote: "b" })).rejects.toThrow();
      // Restarted: it sees term 4 and its vote for "b" and may act on them (resend that vote).
      const second = await openGroupStore("/g", { disk });
      expect(second.termVote, `seed ${seed}`).toEqual({ term: 4, vote: "b" });
      await second.append(records(1, 1, 4));
      // After a power loss it must still know it voted for "b" in term 4.
      disk.crash({ tornWrites: true, reorder: true });
      const third = await openGroupStore("/g", { disk });
      expect(third.termVote, `seed ${seed}`).toEqual({ term: 4, vote: "b" });
      await third.close();
    }
  });
});
