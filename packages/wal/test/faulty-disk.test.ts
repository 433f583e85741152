import { describe, expect, it } from "vitest";
import { createFaultyDisk, createMemoryDisk, Prng } from "../src/testing/index";

async function writeFile(
  disk: ReturnType<typeof createFaultyDisk>,
  path: string,
  bytes: Uint8Array,
  sync: boolean,
): Promise<void> {
  const file = await disk.open(path, "create");
  await file.write(bytes, 0);
  if (sync) await file.datasync();
  await file.close();
}

describe("createFaultyDisk", () => {
  it("keeps synced bytes and synced directory entries across a crash", async () => {
    const disk = createFaultyDisk({ seed: 1 });
    await disk.mkdir("/d");
    await writeFile(disk, "/d/f", new Uint8Array([1, 2, 3]), true);
    await disk.syncDir("/d");
    disk.crash({ tornWrites: false });
    expect([...(disk.peek("/d/f") ?? [])]).toEqual([1, 2, 3]);
  });

  it("loses unsynced writes when tearing is off", async () => {
    const disk = createFaultyDisk({ seed: 2 });
    await disk.mkdir("/d");
    await writeFile(disk, "/d/f", new Uint8Array([1]), true);
    await disk.syncDir("/d");
    const file = await disk.open("/d/f", "write");
    await file.write(new Uint8Array([9, 9]), 1);
    disk.crash({ tornWrites: false });
    expect([...(disk.peek("/d/f") ?? [])]).toEqual([1]);
  });

  it("may undo a create that was not followed by a directory fsync", async () => {
    const outcomes = new Set<boolean>();
    for (let seed = 0; seed < 20; seed++) {
      const disk = createFaultyDisk({ seed });
      await disk.mkdir("/d");
      await writeFile(disk, "/d/f", new Uint8Array([1]), true);
      disk.crash();
      outcomes.add(await disk.exists("/d/f"));
    }
    expect(outcomes).toEqual(new Set([true, false]));
  });

  it("tears the last unsynced write only at sector boundaries", async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      const disk = createFaultyDisk({ seed, sectorBytes: 4 });
      await disk.mkdir("/d");
      await writeFile(disk, "/d/f", new Uint8Array(12), true);
      await disk.syncDir("/d");
      const file = await disk.open("/d/f", "write");
      await file.write(new Uint8Array(12).fill(7), 0);
      disk.crash();
      const bytes = disk.peek("/d/f") ?? new Uint8Array(0);
      expect(bytes.length).toBe(12);
      const sectors = [0, 4, 8].map((s) => bytes.subarray(s, s + 4));
      for (const sector of sectors) expect(new Set(sector).size).toBe(1);
      seen.add(sectors.map((s) => s[0]).join(""));
    }
    // Nothing, everything and mixtures all occur.
    expect(seen.has("000")).toBe(true);
    expect(seen.has("777")).toBe(true);
    expect(seen.size).toBeGreaterThan(3);
  });

  it("replays the same crash from the same seed", async () => {
    const image = async (seed: number): Promise<string> => {
      const disk = createFaultyDisk({ seed, sectorBytes: 2 });
      await disk.mkdir("/d");
      await writeFile(disk, "/d/f", new Prng(seed).bytes(40), false);
      disk.crash({ reorder: true });
      return [...(disk.peek("/d/f") ?? [])].join(",");
    };
    expect(await image(5)).toBe(await image(5));
  });

  it("fails every call after a power cut until the crash", async () => {
    const disk = createFaultyDisk({ seed: 3 });
    await disk.mkdir("/d");
    disk.powerCutAfter(1);
    const file = await disk.open("/d/f", "create");
    await expect(file.write(new Uint8Array(1), 0)).rejects.toMatchObject({ code: "EIO" });
    await expect(disk.syncDir("/d")).rejects.toMatchObject({ code: "EIO" });
    disk.crash();
    // The create was never fsynced into the directory, so it may or may not survive; the failed
    // write never happened.
    expect(disk.peek("/d/f") ?? new Uint8Array(0)).toHaveLength(0);
    await expect(file.size()).rejects.toMatchObject({ code: "EIO" });
  });

  it("injects EIO and ENOSPC once on the chosen operation", async () => {
    const disk = createFaultyDisk({ seed: 4 });
    await disk.mkdir("/d");
    const file = await disk.open("/d/f", "create");
    disk.failNext("ENOSPC", "write");
    await expect(file.write(new Uint8Array(1), 0)).rejects.toMatchObject({ code: "ENOSPC" });
    await file.write(new Uint8Array(1), 0);
    disk.failNext("EIO", "datasync");
    await expect(file.datasync()).rejects.toMatchObject({ code: "EIO" });
    await file.datasync();
  });

  it("misdirects one write and flips bits where asked", async () => {
    const disk = createFaultyDisk({ seed: 5 });
    await disk.mkdir("/d");
    const file = await disk.open("/d/f", "create");
    disk.misdirectNext(4);
    await file.write(new Uint8Array([1, 2]), 0);
    await file.write(new Uint8Array([3]), 0);
    expect([...(disk.peek("/d/f") ?? [])]).toEqual([3, 0, 0, 0, 1, 2]);
    expect(disk.flipBit("/d/f", 0, 0)).toBe(0);
    expect(disk.peek("/d/f")?.[0]).toBe(2);
    expect(() => disk.flipBit("/d/f", 6)).toThrow(/outside/);
  });
});

describe("createMemoryDisk", () => {
  it("stores files and lists directories", async () => {
    const disk = createMemoryDisk();
    await disk.mkdir("/a/b");
    const file = await disk.open("/a/b/f", "create");
    await file.write(new Uint8Array([1, 2, 3]), 2);
    expect([...file.readSync(10, 0)]).toEqual([0, 0, 1, 2, 3]);
    await file.truncate(3);
    expect(await file.size()).toBe(3);
    await disk.rename("/a/b/f", "/a/b/g");
    expect(await disk.list("/a/b")).toEqual(["g"]);
    expect(await disk.list("/a")).toEqual(["b"]);
    await disk.unlink("/a/b/g");
    expect(await disk.exists("/a/b/g")).toBe(false);
    await expect(disk.open("/a/b/g", "write")).rejects.toMatchObject({ code: "ENOENT" });
  });
});
