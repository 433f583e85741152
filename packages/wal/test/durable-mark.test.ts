import { describe, expect, it } from "vitest";
import { openGroupStore, RECORD_HEADER_BYTES } from "../src/index";
import { createFaultyDisk } from "../src/testing/index";
import { fill, records, text } from "./helpers";

const SEGMENT = "/g/log/00000000000000000001.seg";
const MARK = "/g/log/mark";

describe("GroupStore durable mark", () => {
  it("names the end of the log once each append round is synced", async () => {
    const disk = createFaultyDisk({ seed: 21 });
    const store = await openGroupStore("/g", { disk });
    expect(store.durableMark).toEqual({ index: 0, term: 0 });
    await store.append(records(1, 3, 2));
    expect(store.durableMark).toEqual({ index: 3, term: 2 });
    await store.append(records(4, 4, 5));
    expect(store.durableMark).toEqual({ index: 4, term: 5 });
    await store.close();
    const again = await openGroupStore("/g", { disk });
    expect(again.recovery.lostTail).toBeUndefined();
    expect(again.durableMark).toEqual({ index: 4, term: 5 });
  });

  it("reports a bit flip in the last synced record as a lost tail, not only a torn write", async () => {
    const disk = createFaultyDisk({ seed: 22 });
    const offsets = await fill(disk, 6, 3);
    disk.flipBit(SEGMENT, (offsets[5] as number) + RECORD_HEADER_BYTES + 1);
    const store = await openGroupStore("/g", { disk });
    // The bytes look like a torn write and are cut, but the mark says they had been synced.
    expect(store.recovery.truncatedTail).toMatchObject({ fromIndex: 6 });
    expect(store.recovery.lostTail).toEqual({ index: 6, term: 3 });
    expect(store.lastIndex).toBe(5);
  });

  it("keeps reporting the lost tail across restarts until the log is back past it", async () => {
    const disk = createFaultyDisk({ seed: 23 });
    const offsets = await fill(disk, 6, 3);
    disk.flipBit(SEGMENT, (offsets[5] as number) + RECORD_HEADER_BYTES + 1);
    await (await openGroupStore("/g", { disk })).close();
    const second = await openGroupStore("/g", { disk });
    expect(second.recovery.lostTail).toEqual({ index: 6, term: 3 });
    // The same record fetched again (from a peer) brings the log back to the mark.
    await second.append(records(6, 6, 3));
    await second.close();
    const third = await openGroupStore("/g", { disk });
    expect(third.recovery.lostTail).toBeUndefined();
    expect(text(third.read(6))).toBe("entry-6-t3");
  });

  it("clears the lost tail once the log moves past it in a newer term", async () => {
    const disk = createFaultyDisk({ seed: 24 });
    const offsets = await fill(disk, 6, 3);
    disk.flipBit(SEGMENT, (offsets[5] as number) + 2);
    const second = await openGroupStore("/g", { disk });
    expect(second.recovery.lostTail).toEqual({ index: 6, term: 3 });
    // A new leader's entry of a later term at index 6: a log more up to date than the mark.
    await second.append(records(6, 6, 4));
    await second.close();
    const third = await openGroupStore("/g", { disk });
    expect(third.recovery.lostTail).toBeUndefined();
    expect(third.durableMark).toEqual({ index: 6, term: 4 });
  });

  it("never loses a synced record silently to a misdirected tail write", async () => {
    // Each case writes records 1..8 in rounds of one, then misdirects round 9..10 backwards by
    // `k` sectors. Whatever recovery makes of it, every acknowledged record must be readable or
    // reported: damaged mid-log (`corrupt`), or past the end but covered by `lostTail`.
    let onlyTheMarkTold = 0;
    for (let k = 1; k <= 40; k++) {
      const disk = createFaultyDisk({ seed: 100 + k, sectorBytes: 8 });
      const store = await openGroupStore("/g", { disk });
      for (const record of records(1, 8, 2)) await store.append([record]);
      disk.misdirectNext(-8 * k);
      await store.append(records(9, 10, 2));
      await store.close();
      const again = await openGroupStore("/g", { disk });
      const { corrupt, lostTail } = again.recovery;
      for (let i = 1; i <= 10; i++) {
        const where = `shift -${8 * k} bytes, record ${i}`;
        if (i <= again.lastIndex && !corrupt.includes(i)) {
          expect(text(again.read(i)), where).toBe(`entry-${i}-t2`);
        } else if (i > again.lastIndex) {
          expect(lostTail, where).toEqual({ index: 10, term: 2 });
        }
      }
      if (again.lastIndex < 10) onlyTheMarkTold++;
      await again.close();
    }
    // Without the mark, these cases would have lost acknowledged records without a word.
    expect(onlyTheMarkTold).toBeGreaterThan(0);
  });

  it("lowers the mark before a truncation, so a crash after it reports nothing lost", async () => {
    const disk = createFaultyDisk({ seed: 26 });
    const store = await openGroupStore("/g", { disk });
    await store.append(records(1, 5, 1));
    await store.truncateAfter(2);
    expect(store.durableMark).toEqual({ index: 2, term: 1 });
    disk.crash({ tornWrites: true, reorder: true });
    const again = await openGroupStore("/g", { disk });
    expect(again.recovery.lostTail).toBeUndefined();
    expect(again.lastIndex).toBe(2);
  });

  it("treats a mark file with no valid slot as a lost tail of unknown extent", async () => {
    const disk = createFaultyDisk({ seed: 27 });
    const store = await openGroupStore("/g", { disk });
    await store.setTermVote({ term: 9, vote: "" });
    await store.append(records(1, 2, 4));
    await store.append(records(3, 3, 4));
    await store.close();
    disk.flipBit(MARK, 5);
    disk.flipBit(MARK, 512 + 5);
    const second = await openGroupStore("/g", { disk });
    expect(second.recovery.damagedStateCopies).toEqual(["log/mark"]);
    expect(second.recovery.lostTail).toEqual({ index: Number.MAX_SAFE_INTEGER, term: 9 });
    await second.close();
    // Rewritten, not forgotten: it stays until an entry of a term above 9 is stored.
    const third = await openGroupStore("/g", { disk });
    expect(third.recovery.damagedStateCopies).toEqual([]);
    expect(third.recovery.lostTail).toEqual({ index: Number.MAX_SAFE_INTEGER, term: 9 });
    await third.append(records(4, 4, 10));
    await third.close();
    const fourth = await openGroupStore("/g", { disk });
    expect(fourth.recovery.lostTail).toBeUndefined();
  });

  it("survives a flipped bit in the newest mark slot by falling back one round", async () => {
    const disk = createFaultyDisk({ seed: 28 });
    const store = await openGroupStore("/g", { disk });
    await store.append(records(1, 1, 1));
    await store.append(records(2, 2, 1));
    await store.close();
    // Slot of sequence number 3 (the append of record 2) is slot 1.
    disk.flipBit(MARK, 512 + 20);
    const again = await openGroupStore("/g", { disk });
    expect(again.recovery.lostTail).toBeUndefined();
    expect(again.recovery.damagedStateCopies).toEqual([]);
    expect(again.durableMark).toEqual({ index: 1, term: 1 });
  });

  it("creates a missing mark file from the log's end (a store written before the mark existed)", async () => {
    const disk = createFaultyDisk({ seed: 29 });
    await fill(disk, 4, 2);
    await disk.unlink(MARK);
    await disk.syncDir("/g/log");
    const again = await openGroupStore("/g", { disk });
    expect(again.recovery.lostTail).toBeUndefined();
    expect(again.durableMark).toEqual({ index: 4, term: 2 });
    expect(await disk.exists(MARK)).toBe(true);
  });
});
