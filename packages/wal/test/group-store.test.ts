import { describe, expect, it } from "vitest";
import { openGroupStore, WalError } from "../src/index";
import { createFaultyDisk, createMemoryDisk } from "../src/testing/index";
import { records, rejection, text, thrown } from "./helpers";

describe("GroupStore", () => {
  it("starts empty at index 1", async () => {
    const store = await openGroupStore("/g", { disk: createMemoryDisk() });
    expect([store.firstIndex, store.lastIndex, store.lastTerm, store.sizeBytes]).toEqual([
      1, 0, 0, 0,
    ]);
    expect(store.termVote).toEqual({ term: 0, vote: "" });
    expect(store.peerState).toBeUndefined();
    expect(store.snapshotMeta).toBeUndefined();
    expect(store.recovery).toEqual({
      truncatedTail: undefined,
      corrupt: [],
      damagedStateCopies: [],
      invalidSnapshots: [],
    });
  });

  it("appends, reads and reports terms", async () => {
    const store = await openGroupStore("/g", { disk: createMemoryDisk() });
    await store.append(records(1, 3, 1));
    await store.append(records(4, 5, 2));
    expect([store.firstIndex, store.lastIndex, store.lastTerm]).toEqual([1, 5, 2]);
    expect(text(store.read(4))).toBe("entry-4-t2");
    expect(store.term(3)).toBe(1);
    expect(store.sizeBytes).toBeGreaterThan(0);
  });

  it("rejects non-contiguous indexes, decreasing terms and bad payloads", async () => {
    const store = await openGroupStore("/g", { disk: createMemoryDisk() });
    await store.append(records(1, 2, 3));
    for (const bad of [records(4, 4, 3), records(3, 3, 2), [{ index: 3, term: 3, data: "x" }]]) {
      const error = await rejection(store.append(bad as never));
      expect(error).toBeInstanceOf(WalError);
      expect((error as WalError).code).toBe("INVALID_ARGUMENT");
    }
    expect(store.lastIndex).toBe(2);
  });

  it("throws OUT_OF_RANGE outside [firstIndex, lastIndex]", async () => {
    const store = await openGroupStore("/g", { disk: createMemoryDisk() });
    await store.append(records(1, 2));
    for (const index of [0, 3, 1.5]) {
      expect((thrown(() => store.read(index)) as WalError).code).toBe("OUT_OF_RANGE");
    }
    expect((thrown(() => store.term(9)) as WalError).code).toBe("OUT_OF_RANGE");
  });

  it("survives reopen with the same log, term/vote, peer state and snapshot", async () => {
    const disk = createMemoryDisk();
    const store = await openGroupStore("/g", { disk, segmentBytes: 100 });
    await store.append(records(1, 20, 1));
    await store.setTermVote({ term: 4, vote: "abcdefgh" });
    await store.setPeerState(new Uint8Array([1, 2, 3]));
    await store.saveSnapshot({
      term: 1,
      index: 10,
      peerState: new Uint8Array([9]),
      data: new Uint8Array([7, 7]),
    });
    await store.close();
    const again = await openGroupStore("/g", { disk, segmentBytes: 100 });
    expect([again.firstIndex, again.lastIndex, again.lastTerm]).toEqual([1, 20, 1]);
    for (let i = 1; i <= 20; i++) expect(text(again.read(i))).toBe(`entry-${i}-t1`);
    expect(again.termVote).toEqual({ term: 4, vote: "abcdefgh" });
    expect([...(again.peerState ?? [])]).toEqual([1, 2, 3]);
    expect(again.snapshotMeta).toEqual({ term: 1, index: 10 });
    const snapshot = await again.loadSnapshot();
    expect(snapshot && [...snapshot.data]).toEqual([7, 7]);
    expect(snapshot && [...snapshot.peerState]).toEqual([9]);
  });

  it("reads evicted records back from the segment files", async () => {
    const disk = createMemoryDisk();
    const store = await openGroupStore("/g", { disk, segmentBytes: 128, cacheEntries: 2 });
    await store.append(records(1, 30));
    for (let i = 1; i <= 30; i++) expect(text(store.read(i))).toBe(`entry-${i}-t1`);
  });

  it("truncates a suffix across segments and appends after it", async () => {
    const disk = createMemoryDisk();
    const store = await openGroupStore("/g", { disk, segmentBytes: 100, cacheEntries: 1 });
    await store.append(records(1, 20, 1));
    await store.truncateAfter(7);
    expect(store.lastIndex).toBe(7);
    await store.append(records(8, 9, 2));
    await store.close();
    const again = await openGroupStore("/g", { disk, segmentBytes: 100 });
    expect(again.lastIndex).toBe(9);
    expect(text(again.read(7))).toBe("entry-7-t1");
    expect(text(again.read(8))).toBe("entry-8-t2");
    expect((await rejection(again.truncateAfter(-1))) as WalError).toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("compacts a prefix and keeps the logical first index across reopen", async () => {
    const disk = createMemoryDisk();
    const store = await openGroupStore("/g", { disk, segmentBytes: 100 });
    // One append round never spans segments, so append in several rounds to get several files.
    for (let i = 1; i <= 20; i += 4) await store.append(records(i, i + 3));
    const before = store.sizeBytes;
    await store.compactBefore(9);
    expect([store.firstIndex, store.lastIndex]).toEqual([9, 20]);
    expect(store.sizeBytes).toBeLessThan(before);
    expect((thrown(() => store.read(8)) as WalError).code).toBe("OUT_OF_RANGE");
    await store.close();
    const again = await openGroupStore("/g", { disk, segmentBytes: 100 });
    expect([again.firstIndex, again.lastIndex]).toEqual([9, 20]);
    expect(text(again.read(9))).toBe("entry-9-t1");
  });

  it("compacts beyond the end into an empty log that knows its next index", async () => {
    const disk = createMemoryDisk();
    const store = await openGroupStore("/g", { disk });
    await store.append(records(1, 5));
    await store.compactBefore(100);
    expect([store.firstIndex, store.lastIndex, store.lastTerm, store.sizeBytes]).toEqual([
      100, 99, 0, 0,
    ]);
    await store.close();
    const again = await openGroupStore("/g", { disk });
    expect([again.firstIndex, again.lastIndex]).toEqual([100, 99]);
    await again.append(records(100, 101, 3));
    expect(text(again.read(101))).toBe("entry-101-t3");
  });

  it("shares one fdatasync among appends issued while a sync is in flight", async () => {
    const store = await openGroupStore("/g", { disk: createMemoryDisk() });
    await Promise.all(Array.from({ length: 50 }, (_, k) => store.append(records(k + 1, k + 1))));
    expect(store.lastIndex).toBe(50);
    const stats = store.stats;
    expect(stats.appends).toBe(50);
    expect(stats.records).toBe(50);
    // All 50 calls arrive before the worker's next turn and share one write and one sync.
    expect(stats.syncs).toBe(1);
    // And one durable-mark write after that sync, before any of them resolved.
    expect(stats.markSyncs).toBe(1);
    expect(stats.maxAppendsPerSync).toBe(50);
    expect(stats.histogram).toEqual([0, 0, 0, 0, 0, 1]);
    // A call made after the worker took a round goes into the next round.
    const first = store.append(records(51, 51));
    await new Promise((resolve) => setImmediate(resolve));
    const second = store.append(records(52, 52));
    await Promise.all([first, second]);
    expect(store.stats.syncs).toBe(3);
    expect(store.stats.markSyncs).toBe(3);
  });

  it("serves reads of appends that are not yet durable", async () => {
    const store = await openGroupStore("/g", { disk: createMemoryDisk() });
    const pending = store.append(records(1, 3));
    expect(store.lastIndex).toBe(3);
    expect(text(store.read(2))).toBe("entry-2-t1");
    await pending;
  });

  it("closes for good when a sync fails and never retries it", async () => {
    const disk = createFaultyDisk({ seed: 1 });
    const store = await openGroupStore("/g", { disk });
    await store.append(records(1, 1));
    disk.failNext("EIO", "datasync");
    const first = (await rejection(store.append(records(2, 2)))) as WalError;
    expect(first.code).toBe("IO");
    const later = (await rejection(store.append(records(3, 3)))) as WalError;
    expect(later.code).toBe("CLOSED");
    expect(later.cause).toBe(first);
    expect((thrown(() => store.read(1)) as WalError).code).toBe("CLOSED");
    expect((await rejection(store.setTermVote({ term: 1, vote: "" }))) as WalError).toMatchObject({
      code: "CLOSED",
    });
  });

  it("rejects queued operations with CLOSED when an earlier one fails", async () => {
    const disk = createFaultyDisk({ seed: 2 });
    const store = await openGroupStore("/g", { disk });
    disk.failNext("ENOSPC", "write");
    const a = store.append(records(1, 1));
    const b = store.setTermVote({ term: 2, vote: "x" });
    expect(((await rejection(a)) as WalError).code).toBe("NO_SPACE");
    expect(((await rejection(b)) as WalError).code).toBe("CLOSED");
  });

  it("refuses a snapshot older than the current one", async () => {
    const store = await openGroupStore("/g", { disk: createMemoryDisk() });
    const empty = new Uint8Array(0);
    await store.saveSnapshot({ term: 2, index: 10, peerState: empty, data: empty });
    await store.saveSnapshot({ term: 2, index: 12, peerState: empty, data: empty });
    const error = (await rejection(
      store.saveSnapshot({ term: 2, index: 11, peerState: empty, data: empty }),
    )) as WalError;
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(store.snapshotMeta).toEqual({ term: 2, index: 12 });
  });

  it("keeps only the newest snapshot file once it is durable", async () => {
    const disk = createFaultyDisk({ seed: 3 });
    const store = await openGroupStore("/g", { disk });
    const empty = new Uint8Array(0);
    await store.saveSnapshot({ term: 1, index: 5, peerState: empty, data: new Uint8Array([1]) });
    await store.saveSnapshot({ term: 1, index: 9, peerState: empty, data: new Uint8Array([2]) });
    expect(await disk.list("/g/snapshots")).toEqual([
      "snap-00000000000000000009-00000000000000000001.snap",
    ]);
  });

  it("fails every call after close with CLOSED", async () => {
    const store = await openGroupStore("/g", { disk: createMemoryDisk() });
    await store.append(records(1, 1));
    await store.close();
    expect((thrown(() => store.lastIndex) as WalError).code).toBe("CLOSED");
    expect(((await rejection(store.append(records(2, 2)))) as WalError).code).toBe("CLOSED");
  });

  it("validates options", async () => {
    const disk = createMemoryDisk();
    for (const options of [
      { segmentBytes: 0 },
      { cacheEntries: -1 },
      { syncPolicy: { intervalMs: 0 } },
    ]) {
      const error = (await rejection(openGroupStore("/g", { disk, ...options }))) as WalError;
      expect(error.code).toBe("INVALID_ARGUMENT");
    }
  });

  it("with an interval policy acknowledges writes before the timer syncs them", async () => {
    const disk = createFaultyDisk({ seed: 4 });
    const store = await openGroupStore("/g", { disk, syncPolicy: { intervalMs: 5 } });
    await store.append(records(1, 3));
    expect(store.stats.syncs).toBe(0);
    // Wait (bounded) for the timer; a loaded machine may run it late, never early.
    for (let waited = 0; store.stats.syncs === 0 && waited < 2_000; waited += 5) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(store.stats.syncs).toBe(1);
    await store.close();
  });
});
