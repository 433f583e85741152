import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireDataDirLock, LOCK_FILE_NAME } from "../src/data-dir-lock";
import { NodeError } from "../src/node-error";
import {
  APP_DIR,
  freePorts,
  killAndWait,
  ProcessCluster,
  spawnNodeServer,
  waitFor,
  waitForExit,
} from "./helpers/process-cluster";
import { int, pick, prng, SEED } from "./helpers/seeded";

const dirs: string[] = [];
const clusters: ProcessCluster[] = [];

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.stopAll()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "node-server-lock-"));
  dirs.push(d);
  return d;
}

/** A pid that belonged to a process which has exited (a child we started and waited for). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid;
  if (pid === undefined) throw new Error("no pid");
  await waitForExit(child, 10_000);
  return pid;
}

function memoryLog(): {
  lines: { obj: object; msg: string }[];
  warn(obj: object, msg: string): void;
} {
  const lines: { obj: object; msg: string }[] = [];
  return { lines, warn: (obj, msg) => lines.push({ obj, msg }) };
}

describe("acquireDataDirLock", () => {
  it("creates LOCK with this pid and removes it on release", async () => {
    const dir = await tempDir();
    const log = memoryLog();
    const lock = await acquireDataDirLock(dir, log);
    expect(lock.path).toBe(join(dir, LOCK_FILE_NAME));
    expect(await readFile(lock.path, "utf8")).toBe(`${process.pid}\n`);
    await lock.release();
    await lock.release();
    expect(existsSync(lock.path)).toBe(false);
    expect(log.lines).toEqual([]);
  });

  it("refuses a lock held by another live process, naming the directory and the pid", async () => {
    const dir = await tempDir();
    const path = join(dir, LOCK_FILE_NAME);
    // Our parent (the vitest main process) is alive for the whole test.
    await writeFile(path, `${process.ppid}\n`);
    const error = await acquireDataDirLock(dir, memoryLog()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeError);
    expect((error as NodeError).code).toBe("DATA_DIR_LOCKED");
    expect((error as NodeError).message).toContain(
      `data directory ${dir} is in use by process ${process.ppid}`,
    );
    expect(await readFile(path, "utf8")).toBe(`${process.ppid}\n`);
  });

  it("takes over a lock of a dead process, of its own pid, and garbage, with a warning", async () => {
    const dead = await deadPid();
    const cases: [string, string][] = [
      [`${dead}\n`, "process gone"],
      [`${process.pid}`, "own pid"],
      ["not a pid at all \u0000\u00ff", "not a pid"],
      ["0\n", "not a pid"],
      ["-1\n", "not a pid"],
      ["", "not a pid"],
      ["9".repeat(5000), "not a pid"],
    ];
    for (const [content, reason] of cases) {
      const dir = await tempDir();
      await writeFile(join(dir, LOCK_FILE_NAME), content, "latin1");
      const log = memoryLog();
      const lock = await acquireDataDirLock(dir, log);
      expect(await readFile(lock.path, "utf8"), JSON.stringify(content)).toBe(`${process.pid}\n`);
      expect(log.lines).toEqual([
        { obj: expect.objectContaining({ reason }), msg: "took over a stale data directory lock" },
      ]);
      // Nothing is left beside the lock.
      expect(await readdir(dir)).toEqual([LOCK_FILE_NAME]);
      await lock.release();
    }
  });

  it("never fails on random LOCK content except for a live pid, and never leaves debris (seeded)", async () => {
    const dir = await tempDir();
    const path = join(dir, LOCK_FILE_NAME);
    const pool = [..."0123456789", " ", "\n", "\t", "-", "+", "x", "\u0000", "\u00ff"];
    for (let run = 0; run < 300; run++) {
      const next = prng(SEED + run * 7919);
      const content = Array.from({ length: int(next, 0, 24) }, () =>
        next() < 0.2 ? String.fromCharCode(int(next, 0, 255)) : pick(next, pool),
      ).join("");
      const where = `SEED=${SEED} run ${run}, LOCK ${JSON.stringify(content)}`;
      await writeFile(path, content, "latin1");
      const outcome = await acquireDataDirLock(dir, memoryLog()).catch((e: unknown) => e);
      if (outcome instanceof NodeError) {
        // Only a lock naming a live process other than this one may be refused.
        expect(outcome.code, where).toBe("DATA_DIR_LOCKED");
        const pid = Number(/in use by process (\d+)/.exec(outcome.message)?.[1]);
        expect(pid, where).not.toBe(process.pid);
        expect(() => process.kill(pid, 0), where).not.toThrow();
        expect(await readFile(path, "latin1"), where).toBe(content);
      } else {
        expect(outcome, where).toHaveProperty("release");
        expect(await readFile(path, "utf8"), where).toBe(`${process.pid}\n`);
        await (outcome as Awaited<ReturnType<typeof acquireDataDirLock>>).release();
      }
      expect(
        (await readdir(dir)).filter((f) => f !== LOCK_FILE_NAME),
        where,
      ).toEqual([]);
      await rm(path, { force: true });
    }
  });

  it("leaves a lock that no longer names this process in place on release", async () => {
    const dir = await tempDir();
    const lock = await acquireDataDirLock(dir, memoryLog());
    await writeFile(lock.path, `${process.ppid}\n`);
    await lock.release();
    expect(await readFile(lock.path, "utf8")).toBe(`${process.ppid}\n`);
  });

  it("fails with DATA_DIR_LOCK_FAILED when the directory does not exist", async () => {
    const dir = join(await tempDir(), "missing");
    const error = await acquireDataDirLock(dir, memoryLog()).catch((e: unknown) => e);
    expect((error as NodeError).code).toBe("DATA_DIR_LOCK_FAILED");
    expect((error as NodeError).message).toContain(join(dir, LOCK_FILE_NAME));
  });
});

describe("node-server data directory lock (real processes)", () => {
  it("lets exactly one of several processes racing for a stale lock take it", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE_NAME), `${await deadPid()}\n`);
    // Each racer takes the lock and holds it until its stdin closes, so a late racer can only
    // find a live lock: exactly one may win, whatever the timing.
    const script = [
      `const { acquireDataDirLock } = await import(${JSON.stringify(join(APP_DIR, "src/data-dir-lock.ts"))});`,
      "try { await acquireDataDirLock(process.argv[1], { warn() {} }); console.log('got'); }",
      "catch (e) { console.log('error ' + e.code); process.exit(3); }",
      "process.stdin.on('end', () => process.exit(0)); process.stdin.resume();",
    ].join("\n");
    const racers = Array.from({ length: 4 }, () => {
      const child = spawn(
        process.execPath,
        ["--conditions=@raft/source", "--import", "tsx", "--input-type=module", "-e", script, dir],
        { cwd: APP_DIR, stdio: ["pipe", "pipe", "pipe"] },
      );
      const out = { child, text: "" };
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        out.text += chunk;
      });
      return out;
    });
    try {
      const results = await waitFor(
        "every racer to report",
        () => {
          const lines = racers.map((r) => r.text.trim());
          return lines.every((l) => l !== "") ? lines : undefined;
        },
        20_000,
        20,
      );
      expect(results.filter((l) => l === "got")).toHaveLength(1);
      expect(results.filter((l) => l === "error DATA_DIR_LOCKED")).toHaveLength(3);
      const winner = racers[results.indexOf("got")];
      expect(await readFile(join(dir, LOCK_FILE_NAME), "utf8")).toBe(`${winner?.child.pid}\n`);
      expect(await readdir(dir)).toEqual([LOCK_FILE_NAME]);
    } finally {
      for (const r of racers) r.child.stdin.end();
      await Promise.all(racers.map((r) => waitForExit(r.child, 10_000).catch(() => null)));
    }
  });

  it("refuses a second process on the same dataDir while the first keeps serving, and removes LOCK on a clean stop", async () => {
    const cluster = await ProcessCluster.create({ size: 1 });
    clusters.push(cluster);
    const n1 = cluster.node("n1");
    // A garbage lock left behind (e.g. a truncated write): taken over with a warning.
    await mkdir(n1.dataDir, { recursive: true });
    await writeFile(join(n1.dataDir, LOCK_FILE_NAME), "garbage\n");
    cluster.start("n1");
    const first = n1.child;
    await cluster.waitForLeader();
    expect(await readFile(join(n1.dataDir, LOCK_FILE_NAME), "utf8")).toBe(`${first?.pid}\n`);
    expect(cluster.logs("n1")).toContainEqual(
      expect.objectContaining({ msg: "took over a stale data directory lock", level: 40 }),
    );

    // The second process gets its own ports: only the lock can stop it.
    const [route, http, client] = await freePorts(3);
    const lines: string[] = [];
    const started = performance.now();
    const second = spawnNodeServer(
      [
        "--config",
        n1.configFile,
        "--listen",
        `127.0.0.1:${route}`,
        "--http",
        `127.0.0.1:${http}`,
        "--client",
        `127.0.0.1:${client}`,
      ],
      lines,
    );
    expect(await waitForExit(second, 15_000)).toBe(1);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(lines).toContainEqual(
      `node-server: start failed: data directory ${n1.dataDir} is in use by process ${first?.pid} (lock file ${join(n1.dataDir, LOCK_FILE_NAME)}); stop that process first, or remove the file if that pid is not a node-server`,
    );

    // The first one still serves, and still holds the lock.
    const put = await fetch(`http://127.0.0.1:${n1.httpPort}/kv/after-second`, {
      method: "PUT",
      body: "ok",
      signal: AbortSignal.timeout(5_000),
    });
    expect(put.status).toBe(200);
    expect(await readFile(join(n1.dataDir, LOCK_FILE_NAME), "utf8")).toBe(`${first?.pid}\n`);

    // A clean stop removes the lock file.
    expect(await cluster.kill("n1", "SIGTERM")).toBe(0);
    expect(existsSync(join(n1.dataDir, LOCK_FILE_NAME))).toBe(false);
  });

  it("takes over the lock of a process that died, and keeps its data", async () => {
    const cluster = await ProcessCluster.create({ size: 1 });
    clusters.push(cluster);
    const n1 = cluster.node("n1");
    cluster.start("n1");
    await cluster.waitForLeader();
    const put = await fetch(`http://127.0.0.1:${n1.httpPort}/kv/survivor`, {
      method: "PUT",
      body: "kept",
      signal: AbortSignal.timeout(5_000),
    });
    expect(put.status).toBe(200);
    const killedPid = n1.child?.pid;
    // SIGKILL: no clean close, so the lock stays behind naming a dead pid.
    await cluster.kill("n1", "SIGKILL");
    expect(await readFile(join(n1.dataDir, LOCK_FILE_NAME), "utf8")).toBe(`${killedPid}\n`);

    cluster.start("n1");
    await cluster.waitForLeader();
    const restartedPid = n1.child?.pid;
    expect(await readFile(join(n1.dataDir, LOCK_FILE_NAME), "utf8")).toBe(`${restartedPid}\n`);
    expect(cluster.logs("n1")).toContainEqual(
      expect.objectContaining({
        msg: "took over a stale data directory lock",
        stalePid: killedPid,
        reason: "process gone",
      }),
    );
    const got = await waitFor(
      "the value written before the kill",
      async () => {
        const r = await fetch(`http://127.0.0.1:${n1.httpPort}/kv/survivor`, {
          signal: AbortSignal.timeout(5_000),
        });
        return r.status === 200 ? await r.text() : undefined;
      },
      10_000,
    );
    expect(got).toBe("kept");
    const child = n1.child;
    if (child !== undefined) expect(await killAndWait(child, "SIGTERM")).toBe(0);
    expect(existsSync(join(n1.dataDir, LOCK_FILE_NAME))).toBe(false);
  });
});
