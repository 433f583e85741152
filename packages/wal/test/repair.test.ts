import { describe, expect, it } from "vitest";
import { openGroupStore, RECORD_HEADER_BYTES, type WalError } from "../src/index";
import { createFaultyDisk, type FaultyDisk } from "../src/testing/index";
import { records, rejection, text } from "./helpers";

const SEGMENT = "/g/log/00000000000000000001.seg";

async function damaged(
  seed: number,
  flips: { index: number; delta: number }[],
): Promise<FaultyDisk> {
  const disk = createFaultyDisk({ seed, sectorBytes: 16 });
  const store = await openGroupStore("/g", { disk });
  const offsets: number[] = [];
  let offset = 0;
  for (const record of records(1, 10)) {
    offsets.push(offset);
    offset += RECORD_HEADER_BYTES + record.data.length;
    await store.append([record]);
  }
  await store.close();
  for (const { index, delta } of flips)
    disk.flipBit(SEGMENT, (offsets[index - 1] as number) + delta);
  return disk;
}

describe("GroupStore.repair", () => {
  it("rewrites a record whose payload was damaged, durably", async () => {
    const disk = await damaged(1, [{ index: 4, delta: RECORD_HEADER_BYTES + 2 }]);
    const store = await openGroupStore("/g", { disk, cacheEntries: 0 });
    expect(store.recovery.corrupt).toEqual([4]);
    await store.repair(records(4, 4));
    expect(text(store.read(4))).toBe("entry-4-t1");
    await store.close();
    const again = await openGroupStore("/g", { disk, cacheEntries: 0 });
    expect(again.recovery.corrupt).toEqual([]);
    for (let i = 1; i <= 10; i++) expect(text(again.read(i))).toBe(`entry-${i}-t1`);
  });

  it("rewrites a whole unreadable stretch of headers", async () => {
    const disk = await damaged(2, [
      { index: 5, delta: 3 },
      { index: 6, delta: 20 },
    ]);
    const store = await openGroupStore("/g", { disk });
    expect(store.recovery.corrupt).toEqual([5, 6]);
    const partial = (await rejection(store.repair(records(5, 5)))) as WalError;
    expect(partial.code).toBe("INVALID_ARGUMENT");
    await store.repair(records(5, 6));
    await store.close();
    const again = await openGroupStore("/g", { disk });
    expect(again.recovery.corrupt).toEqual([]);
    expect(text(again.read(6))).toBe("entry-6-t1");
  });

  it("refuses records that are not damaged, have another term or do not fit", async () => {
    const disk = await damaged(3, [{ index: 4, delta: RECORD_HEADER_BYTES + 2 }]);
    const store = await openGroupStore("/g", { disk });
    const cases = [
      records(3, 3),
      records(4, 4, 2),
      [{ index: 4, term: 1, data: new Uint8Array(3) }],
      [],
    ];
    for (const bad of cases) {
      expect(((await rejection(store.repair(bad))) as WalError).code).toBe("INVALID_ARGUMENT");
    }
    expect(store.recovery.corrupt).toEqual([4]);
    await store.repair(records(4, 4));
  });

  it("leaves the record damaged or repaired, never worse, when power fails mid-repair", async () => {
    for (let cut = 0; cut <= 3; cut++) {
      for (let seed = 0; seed < 10; seed++) {
        const disk = await damaged(100 + seed, [{ index: 4, delta: RECORD_HEADER_BYTES + 2 }]);
        const store = await openGroupStore("/g", { disk });
        disk.powerCutAfter(cut);
        await store.repair(records(4, 4)).catch(() => undefined);
        disk.crash({ tornWrites: true, reorder: true });
        const again = await openGroupStore("/g", { disk });
        const where = `cut=${cut} seed=${100 + seed}`;
        expect(again.lastIndex, where).toBe(10);
        expect(again.recovery.truncatedTail, where).toBeUndefined();
        expect([[], [4]], where).toContainEqual(again.recovery.corrupt);
        for (let i = 1; i <= 10; i++) {
          if (i === 4 && again.recovery.corrupt.length > 0) continue;
          expect(text(again.read(i)), where).toBe(`entry-${i}-t1`);
        }
      }
    }
  });
});
