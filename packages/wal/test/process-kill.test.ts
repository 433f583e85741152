import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createNodeDisk, openGroupStore } from "../src/index";
import { Prng } from "../src/testing/index";
import { payloadOf } from "./fixtures/payload";

const register = fileURLToPath(new URL("./fixtures/register-ts.mjs", import.meta.url));
const child = fileURLToPath(new URL("./fixtures/append-child.ts", import.meta.url));
const { SEED } = process.env;
const seed = SEED === undefined ? Date.now() % 1_000_000 : Number(SEED);
const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Runs the child until it has reported `killAfter` durable appends, then SIGKILLs it. */
function runChild(dir: string, killAfter: number): Promise<{ reported: number[]; start: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ["--conditions=@raft/source", "--import", register, child, dir],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const reported: number[] = [];
    let start = -1;
    let buffered = "";
    let errors = "";
    const guard = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    proc.stderr.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    proc.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("ready ")) start = Number(line.slice(6));
        else reported.push(Number(line));
      }
      if (reported.length >= killAfter) proc.kill("SIGKILL");
    });
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") reject(new Error(`child exited ${code}: ${errors}`));
      else resolve({ reported, start });
    });
  });
}

describe("GroupStore under SIGKILL", () => {
  it("keeps every append a killed child reported durable", async () => {
    const prng = new Prng(seed);
    const dir = await mkdtemp(join(tmpdir(), "raft-wal-kill-"));
    dirs.push(dir);
    let total = 0;
    for (let round = 0; round < 3; round++) {
      const { reported, start } = await runChild(dir, 50 + prng.int(400));
      const where = `seed=${seed} round=${round} (replay: SEED=${seed})`;
      expect(start, where).toBe(total);
      const store = await openGroupStore(dir, { disk: createNodeDisk() });
      expect(store.recovery.corrupt, where).toEqual([]);
      for (const index of reported) {
        expect(store.lastIndex, where).toBeGreaterThanOrEqual(index);
        expect(store.read(index), where).toEqual(payloadOf(index));
      }
      for (let index = 1; index <= store.lastIndex; index++) {
        expect(store.read(index), where).toEqual(payloadOf(index));
      }
      total = store.lastIndex;
      await store.close();
    }
    expect(total).toBeGreaterThan(0);
  });
});
