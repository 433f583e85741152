import { describe, expect, it } from "vitest";
import { openGroupStore, RECORD_HEADER_BYTES, WalError } from "../src/index";
import { createFaultyDisk } from "../src/testing/index";
import { fill, records, rejection, text, thrown } from "./helpers";

const SEGMENT = "/g/log/00000000000000000001.seg";

describe("GroupStore corruption handling", () => {
  for (const [part, delta] of [
    ["payload", RECORD_HEADER_BYTES + 3],
    ["header", 9],
    ["magic", 0],
  ] as const) {
    it(`reports a flipped bit in a middle record's ${part} as that index and keeps later records`, async () => {
      const disk = createFaultyDisk({ seed: 7 });
      const offsets = await fill(disk, 10);
      disk.flipBit(SEGMENT, (offsets[4] as number) + delta);
      const store = await openGroupStore("/g", { disk });
      expect(store.recovery.corrupt).toEqual([5]);
      expect(store.recovery.truncatedTail).toBeUndefined();
      expect(store.lastIndex).toBe(10);
      const error = thrown(() => store.read(5)) as WalError;
      expect(error).toBeInstanceOf(WalError);
      expect(error.code).toBe("CORRUPT");
      for (const i of [1, 4, 6, 10]) expect(text(store.read(i))).toBe(`entry-${i}-t1`);
      if (part === "payload") expect(store.term(5)).toBe(1);
      else expect((thrown(() => store.term(5)) as WalError).code).toBe("CORRUPT");
    });
  }

  it("reports every index of a damaged stretch exactly", async () => {
    const disk = createFaultyDisk({ seed: 8 });
    const offsets = await fill(disk, 12);
    for (const i of [3, 4, 5]) disk.flipBit(SEGMENT, (offsets[i] as number) + 10);
    const store = await openGroupStore("/g", { disk });
    expect(store.recovery.corrupt).toEqual([4, 5, 6]);
    expect(text(store.read(7))).toBe("entry-7-t1");
  });

  it("cuts damage in the last write round as the torn tail and reports it", async () => {
    const disk = createFaultyDisk({ seed: 9 });
    const offsets = await fill(disk, 6);
    disk.flipBit(SEGMENT, (offsets[5] as number) + RECORD_HEADER_BYTES + 1);
    const store = await openGroupStore("/g", { disk });
    expect(store.recovery.corrupt).toEqual([]);
    expect(store.recovery.truncatedTail).toMatchObject({ fromIndex: 6, records: 1 });
    expect(store.lastIndex).toBe(5);
  });

  it("detects damage that appears after open when the record is read from disk", async () => {
    const disk = createFaultyDisk({ seed: 10 });
    const offsets = await fill(disk, 6);
    const store = await openGroupStore("/g", { disk, cacheEntries: 0 });
    disk.flipBit(SEGMENT, (offsets[2] as number) + RECORD_HEADER_BYTES);
    expect((thrown(() => store.read(3)) as WalError).code).toBe("CORRUPT");
    expect((thrown(() => store.read(3)) as WalError).code).toBe("CORRUPT");
    expect(text(store.read(4))).toBe("entry-4-t1");
  });

  it("detects a misdirected write instead of serving garbage", async () => {
    const disk = createFaultyDisk({ seed: 11, sectorBytes: 16 });
    const store = await openGroupStore("/g", { disk });
    for (const record of records(1, 8)) await store.append([record]);
    disk.misdirectNext(-64);
    await store.append(records(9, 9));
    await store.close();
    const again = await openGroupStore("/g", { disk });
    const report = again.recovery;
    expect(report.corrupt.length + (report.truncatedTail?.records ?? 0)).toBeGreaterThan(0);
    for (let i = again.firstIndex; i <= again.lastIndex; i++) {
      if (report.corrupt.includes(i)) continue;
      expect(text(again.read(i))).toBe(`entry-${i}-t1`);
    }
  });

  it("survives a flipped bit in either term/vote copy", async () => {
    for (const copy of ["a", "b"]) {
      const disk = createFaultyDisk({ seed: 12 });
      const store = await openGroupStore("/g", { disk });
      await store.setTermVote({ term: 3, vote: "first" });
      await store.setTermVote({ term: 5, vote: "second" });
      await store.close();
      disk.flipBit(`/g/tav.${copy}`, 25);
      const again = await openGroupStore("/g", { disk });
      expect(again.termVote).toEqual({ term: 5, vote: "second" });
      expect(again.recovery.damagedStateCopies).toEqual([`tav.${copy}`]);
      // The next write repairs the damaged copy.
      await again.setTermVote({ term: 6, vote: "" });
      await again.close();
      const third = await openGroupStore("/g", { disk });
      expect(third.recovery.damagedStateCopies).toEqual([]);
      expect(third.termVote).toEqual({ term: 6, vote: "" });
    }
  });

  it("survives a flipped bit in one peer-state copy and in one compaction-floor copy", async () => {
    const disk = createFaultyDisk({ seed: 13 });
    const store = await openGroupStore("/g", { disk });
    await store.append(records(1, 5));
    await store.setPeerState(new Uint8Array([4, 5, 6]));
    await store.compactBefore(3);
    await store.close();
    disk.flipBit("/g/peers.b", 21);
    disk.flipBit("/g/log/first.a", 22);
    const again = await openGroupStore("/g", { disk });
    expect([...(again.peerState ?? [])]).toEqual([4, 5, 6]);
    expect(again.firstIndex).toBe(3);
    expect(again.recovery.damagedStateCopies).toEqual(["peers.b", "log/first.a"]);
  });

  it("falls back to an older valid snapshot when the newest is damaged", async () => {
    const disk = createFaultyDisk({ seed: 14 });
    const store = await openGroupStore("/g", { disk });
    const empty = new Uint8Array(0);
    await store.saveSnapshot({ term: 1, index: 4, peerState: empty, data: new Uint8Array([4]) });
    await store.close();
    // Put an older copy back beside a newer one, then damage the newer one.
    const old = disk.peek("/g/snapshots/snap-00000000000000000004-00000000000000000001.snap");
    const again = await openGroupStore("/g", { disk });
    await again.saveSnapshot({ term: 1, index: 8, peerState: empty, data: new Uint8Array([8]) });
    await again.close();
    const file = await disk.open(
      "/g/snapshots/snap-00000000000000000004-00000000000000000001.snap",
      "create",
    );
    await file.write(old as Uint8Array, 0);
    await file.datasync();
    await file.close();
    await disk.syncDir("/g/snapshots");
    disk.flipBit("/g/snapshots/snap-00000000000000000008-00000000000000000001.snap", 33);
    const third = await openGroupStore("/g", { disk });
    expect(third.recovery.invalidSnapshots).toEqual([
      "snap-00000000000000000008-00000000000000000001.snap",
    ]);
    expect(third.snapshotMeta).toEqual({ term: 1, index: 4 });
    expect([...((await third.loadSnapshot())?.data ?? [])]).toEqual([4]);
  });

  it("rejects loadSnapshot with CORRUPT when the snapshot rots after open", async () => {
    const disk = createFaultyDisk({ seed: 15 });
    const store = await openGroupStore("/g", { disk });
    const empty = new Uint8Array(0);
    await store.saveSnapshot({ term: 1, index: 4, peerState: empty, data: new Uint8Array(64) });
    disk.flipBit("/g/snapshots/snap-00000000000000000004-00000000000000000001.snap", 50);
    expect(((await rejection(store.loadSnapshot())) as WalError).code).toBe("CORRUPT");
    // A damaged read does not close the store.
    await store.append(records(1, 1));
  });
});
