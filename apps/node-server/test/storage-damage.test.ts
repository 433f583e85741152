import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProcessCluster, waitFor } from "./helpers/process-cluster";

/** 36-byte WAL record header: magic, data length (u32 LE at 4), index, term, … (wal-format.md §2). */
const RECORD_HEADER_BYTES = 36;

/** Flips one bit in the payload of the last record of a stopped node's newest kv log segment. */
async function flipLastRecord(dataDir: string): Promise<void> {
  const logDir = join(dataDir, "kv", "log");
  const segments = (await readdir(logDir)).filter((n) => n.endsWith(".seg")).sort();
  const newest = segments.at(-1);
  if (newest === undefined) throw new Error(`no segment in ${logDir}`);
  const file = await open(join(logDir, newest), "r+");
  try {
    const { size } = await file.stat();
    const bytes = Buffer.alloc(size);
    await file.read(bytes, 0, size, 0);
    let last = -1;
    for (let at = 0; at + RECORD_HEADER_BYTES <= size; ) {
      last = at;
      at += RECORD_HEADER_BYTES + bytes.readUInt32LE(at + 4);
    }
    if (last < 0) throw new Error(`no record in ${newest}`);
    const offset = last + RECORD_HEADER_BYTES + 1;
    await file.write(Buffer.from([(bytes[offset] as number) ^ 0x10]), 0, 1, offset);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function put(port: number, key: string, value: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/kv/${key}`, {
    method: "PUT",
    body: value,
    signal: AbortSignal.timeout(10_000),
  });
  await r.arrayBuffer();
  return r.status;
}

async function linearizableGet(
  port: number,
  key: string,
): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}/kv/${key}?linearizable`, {
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, body: await r.text() };
}

describe("node-server after damage to the last synced WAL record (real processes, real files)", () => {
  let cluster: ProcessCluster | undefined;
  afterEach(async () => {
    await cluster?.stopAll();
    cluster = undefined;
  });

  it("never loses an acknowledged write that only the damaged node and a dead leader held", async () => {
    const c = await ProcessCluster.create({ size: 3 });
    cluster = c;
    c.startAll();
    const leader = await c.waitForLeader(20_000);
    const [victim, laggard] = c.nodes.filter((n) => n.name !== leader).map((n) => n.name) as [
      string,
      string,
    ];
    for (let i = 0; i < 10; i++)
      expect(await put(c.node(leader).httpPort, `k${i}`, `v${i}`)).toBe(200);
    // The laggard misses the next write: it is committed by the leader and the victim alone.
    await c.kill(laggard);
    expect(await put(c.node(leader).httpPort, "critical", "acknowledged")).toBe(200);
    const leaderLast = (await c.kvStatus(leader)).lastIndex;
    await waitFor(
      `${victim} holds index ${leaderLast}`,
      async () => ((await c.kvStatus(victim)).lastIndex >= leaderLast ? true : undefined),
      10_000,
    );
    await c.kill(leader);
    await c.kill(victim);
    await flipLastRecord(c.node(victim).dataDir);

    // The victim lost the record it acknowledged, and knows it: with the laggard alone it neither
    // leads nor lets the laggard lead (without the durable mark, one of them would, and the
    // committed write would be overwritten).
    c.start(victim);
    c.start(laggard);
    const status = await waitFor(
      `${victim} reports its lost tail`,
      async () => {
        const s = (await c.json(victim, "/raftz")).body["groups"] as Record<
          string,
          { localDamage?: { lostTail?: { index: number } } }
        >;
        return s["kv"]?.localDamage?.lostTail;
      },
      15_000,
    );
    expect(status.index).toBeGreaterThanOrEqual(leaderLast);
    await new Promise((r) => setTimeout(r, 3_000));
    for (const name of [victim, laggard])
      expect((await c.kvStatus(name)).isLeader, name).toBe(false);

    // The old leader comes back: a leader is elected, the victim is repaired, nothing is lost.
    c.start(leader);
    await c.waitForLeader(20_000);
    for (const n of c.nodes) {
      const got = await waitFor(
        `${n.name} serves "critical"`,
        async () => {
          const r = await linearizableGet(n.httpPort, "critical");
          return r.status === 200 ? r.body : undefined;
        },
        20_000,
      );
      expect(got, n.name).toBe("acknowledged");
      expect((await linearizableGet(n.httpPort, "k9")).body, n.name).toBe("v9");
    }
    await waitFor(
      `${victim} repaired`,
      async () => {
        const s = (await c.json(victim, "/raftz")).body["groups"] as Record<
          string,
          { localDamage?: { lostTail?: unknown } }
        >;
        return s["kv"]?.localDamage?.lostTail === undefined ? true : undefined;
      },
      15_000,
    );
  }, 90_000);
});
