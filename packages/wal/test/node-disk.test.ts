import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createNodeDisk, openGroupStore, WalError } from "../src/index";
import { records, rejection, text } from "./helpers";

const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "raft-wal-"));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("createNodeDisk", () => {
  it("writes, reads synchronously, truncates, renames, lists and unlinks real files", async () => {
    const dir = await tempDir();
    const disk = createNodeDisk();
    await disk.mkdir(join(dir, "a/b"));
    const file = await disk.open(join(dir, "a/b/f"), "create");
    await file.write(new Uint8Array([1, 2, 3, 4]), 0);
    await file.datasync();
    expect([...file.readSync(10, 1)]).toEqual([2, 3, 4]);
    expect([...(await file.read(2, 2))]).toEqual([3, 4]);
    await file.truncate(2);
    expect(await file.size()).toBe(2);
    await file.close();
    await disk.rename(join(dir, "a/b/f"), join(dir, "a/b/g"));
    await disk.syncDir(join(dir, "a/b"));
    expect(await disk.list(join(dir, "a/b"))).toEqual(["g"]);
    expect((await stat(join(dir, "a/b/g"))).mode & 0o777).toBe(0o600);
    await disk.unlink(join(dir, "a/b/g"));
    expect(await disk.exists(join(dir, "a/b/g"))).toBe(false);
    await expect(disk.open(join(dir, "a/b/g"), "write")).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("GroupStore on the real disk", () => {
  it("persists the log, state and snapshot across reopen", async () => {
    const dir = await tempDir();
    const disk = createNodeDisk();
    const store = await openGroupStore(dir, { disk, segmentBytes: 256, cacheEntries: 4 });
    for (let i = 1; i <= 40; i += 5) await store.append(records(i, i + 4, 2));
    await store.setTermVote({ term: 2, vote: "node-a" });
    await store.saveSnapshot({
      term: 2,
      index: 10,
      peerState: new Uint8Array([1]),
      data: new Uint8Array([5]),
    });
    await store.compactBefore(11);
    await store.truncateAfter(35);
    await store.close();
    expect(
      (await readdir(join(dir, "log"))).filter((n) => n.endsWith(".seg")).length,
    ).toBeGreaterThan(1);
    const again = await openGroupStore(dir, { disk, cacheEntries: 0 });
    expect([again.firstIndex, again.lastIndex, again.lastTerm]).toEqual([11, 35, 2]);
    for (let i = 11; i <= 35; i++) expect(text(again.read(i))).toBe(`entry-${i}-t2`);
    expect(again.termVote).toEqual({ term: 2, vote: "node-a" });
    expect(again.snapshotMeta).toEqual({ term: 2, index: 10 });
    await again.close();
  });

  it("reports IO when the directory cannot be created", async () => {
    const dir = await tempDir();
    const disk = createNodeDisk();
    const file = await disk.open(join(dir, "plain"), "create");
    await file.close();
    const error = (await rejection(openGroupStore(join(dir, "plain/g"), { disk }))) as WalError;
    expect(error).toBeInstanceOf(WalError);
    expect(error.code).toBe("IO");
  });
});
