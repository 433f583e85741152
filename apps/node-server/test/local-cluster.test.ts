import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, headers } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { APP_DIR, freePorts, killAndWait, waitFor, waitForExit } from "./helpers/process-cluster";

/** A base port with `count` consecutive free ports, found by probing. */
async function consecutiveFreePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const [base] = await freePorts(1);
    if (base === undefined || base + count > 65535) continue;
    const ok = await Promise.all(
      Array.from(
        { length: count },
        (_, i) =>
          new Promise<boolean>((resolve) => {
            const s = createServer();
            s.once("error", () => resolve(false));
            s.listen(base + i, "127.0.0.1", () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (ok.every(Boolean)) return base;
  }
  throw new Error("no run of free ports found");
}

/** `launch` with the data in `dir` and 9 ports from `base` (routes, HTTP, NATS). */
function launchAt(dir: string, base: number, lines: string[]) {
  return launch(
    [
      "--data",
      join(dir, "data"),
      "--route-base",
      String(base),
      "--http-base",
      String(base + 3),
      "--client-base",
      String(base + 6),
    ],
    lines,
  );
}

function launch(args: readonly string[], lines: string[]) {
  const child = spawn(
    process.execPath,
    ["--conditions=@raft/source", "--import", "tsx", "src/cluster.ts", ...args],
    { cwd: APP_DIR, stdio: ["ignore", "pipe", "pipe"] },
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => lines.push(...chunk.split("\n").filter((l) => l !== "")));
  }
  return child;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("pnpm cluster (src/cluster.ts)", () => {
  let dir: string;
  let children: ReturnType<typeof launch>[] = [];
  let nodePids: number[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "node-server-cluster-"));
    children = [];
    nodePids = [];
  });

  afterEach(async () => {
    for (const c of children) await killAndWait(c, "SIGKILL").catch(() => null);
    for (const pid of nodePids) if (alive(pid)) process.kill(pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("starts 3 nodes, prints where they are and the leader, and stops them all on SIGINT", async () => {
    const base = await consecutiveFreePorts(9);
    const lines: string[] = [];
    const child = launchAt(dir, base, lines);
    children.push(child);
    const leaderLine = await waitFor(
      "the leader line",
      () => lines.find((l) => l.startsWith("leader: ")),
      30_000,
    );
    expect(leaderLine).toMatch(/^leader: n[123]/);
    nodePids = lines
      .map((l) => /^ {2}n\d {2}pid (\d+)/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined)
      .map(Number);
    expect(nodePids).toHaveLength(3);
    const text = lines.join("\n");
    for (let i = 0; i < 3; i++) {
      expect(text).toContain(`http://127.0.0.1:${base + 3 + i}`);
      expect(text).toContain(`nats://127.0.0.1:${base + 6 + i}`);
    }
    expect(text).toContain(join(dir, "data", "n1.log"));
    expect(text).toContain("curl -X PUT");
    // The printed example works.
    const put = await fetch(`http://127.0.0.1:${base + 3}/kv/greeting`, {
      method: "PUT",
      body: "hello",
    });
    expect(put.status).toBe(200);
    // And the printed NATS address serves the KV subjects.
    const nc = await connect({ servers: `127.0.0.1:${base + 7}`, reconnect: false });
    try {
      // Linearizable: n2 may not have applied the PUT yet.
      const h = headers();
      h.set("Raft-Read", "linearizable");
      const got = await nc.request("$RAFT.KV.GET.greeting", "", { timeout: 5_000, headers: h });
      expect(got.string()).toBe("hello");
    } finally {
      await nc.close();
    }

    child.kill("SIGINT");
    expect(await waitForExit(child, 20_000)).toBe(0);
    expect(lines).toContain("cluster stopped");
    for (const pid of nodePids) expect(alive(pid)).toBe(false);
  });

  it("refuses to start, naming the port, when a port is taken", async () => {
    const base = await consecutiveFreePorts(9);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(base + 4, "127.0.0.1", () => r()));
    try {
      const lines: string[] = [];
      const child = launchAt(dir, base, lines);
      children.push(child);
      expect(await waitForExit(child, 20_000)).toBe(2);
      expect(lines.join("\n")).toContain(`port ${base + 4} (n2 HTTP)`);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
