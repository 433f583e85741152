import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mapConcurrent, ProcessCluster, waitFor } from "./helpers/process-cluster";

const WRITES = 1_000;
const SNAPSHOT_EVERY = 20;

const key = (i: number): string => `k${String(i).padStart(5, "0")}`;
const value = (i: number): string => `value-${i}-${"x".repeat(i % 50)}`;

async function putOnce(
  port: number,
  k: string,
  v: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`http://127.0.0.1:${port}/kv/${k}`, {
    method: "PUT",
    body: v,
    signal: AbortSignal.timeout(15_000),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/**
 * PUT until acknowledged: a 503 (no leader or leadership lost during an election that a loaded
 * machine can trigger) is retried, at most 20 times. A put is idempotent, so a retried write whose
 * first outcome was unknown is harmless. Only a 200 counts as acknowledged.
 */
async function put(
  port: number,
  k: string,
  v: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let last = await putOnce(port, k, v);
  for (let attempt = 0; attempt < 20 && last.status === 503; attempt++) {
    await new Promise((r) => setTimeout(r, 250));
    last = await putOnce(port, k, v);
  }
  return last;
}

/** Keys among `indexes` that `port` does not return with the acknowledged value. */
async function missing(port: number, indexes: readonly number[]): Promise<string[]> {
  const results = await mapConcurrent(indexes, 32, async (i) => {
    const r = await fetch(`http://127.0.0.1:${port}/kv/${key(i)}`, {
      signal: AbortSignal.timeout(5_000),
    });
    const text = await r.text();
    return r.status === 200 && text === value(i) ? undefined : key(i);
  });
  return results.filter((k): k is string => k !== undefined);
}

describe("node-server cluster (3 real processes)", () => {
  let cluster: ProcessCluster;
  let leader: string;
  let killed: string;
  const acknowledged: number[] = [];

  beforeAll(async () => {
    cluster = await ProcessCluster.create({
      size: 3,
      extra: { kv: { snapshotEntries: SNAPSHOT_EVERY } },
    });
    cluster.startAll();
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  it("elects a leader that every node agrees on", async () => {
    leader = await cluster.waitForLeader(20_000);
    for (const n of cluster.nodes) {
      const health = await waitFor(
        `${n.name} /healthz 200`,
        async () => {
          const h = await cluster.json(n.name, "/healthz");
          return h.status === 200 ? h : undefined;
        },
        10_000,
      );
      expect(health.body["leader"]).toBe(leader);
    }
  });

  it("acknowledges 1,000 concurrent writes on the leader, each committed and applied", async () => {
    const port = cluster.node(leader).httpPort;
    const indexes = Array.from({ length: WRITES }, (_, i) => i);
    const results = await mapConcurrent(indexes, 64, (i) => put(port, key(i), value(i)));
    const failures = results.filter((r) => r.status !== 200);
    expect(failures, JSON.stringify(failures.slice(0, 3))).toEqual([]);
    for (const [i, r] of results.entries()) {
      expect(typeof r.body["revision"]).toBe("number");
      acknowledged.push(i);
    }
    // A revision is the Raft index of the append entry that carried the write; one entry batches
    // many writes, so revisions repeat but never exceed what the leader applied.
    const maxRevision = Math.max(...results.map((r) => r.body["revision"] as number));
    const status = await cluster.kvStatus(leader);
    expect(status.applied).toBeGreaterThanOrEqual(maxRevision);
    // The snapshot policy (every 20 applied indexes) fired on the leader.
    expect(status.snapshot.taken).toBeGreaterThan(0);
  });

  it("forwards a write sent to a follower to the leader", async () => {
    const follower = cluster.nodes.find((n) => n.name !== leader);
    if (follower === undefined) throw new Error("no follower");
    const r = await put(follower.httpPort, "forwarded", "via-follower");
    expect(r.status).toBe(200);
    expect(r.body["leader"]).toBe(leader);
    const onLeader = await fetch(`http://127.0.0.1:${cluster.node(leader).httpPort}/kv/forwarded`);
    expect(await onLeader.text()).toBe("via-follower");
    const del = await fetch(`http://127.0.0.1:${follower.httpPort}/kv/forwarded`, {
      method: "DELETE",
    });
    expect(del.status).toBe(200);
    expect(del.headers.get("x-raft-leader")).toBe(leader);
    expect(((await del.json()) as Record<string, unknown>)["existed"]).toBe(true);
    const gone = await fetch(`http://127.0.0.1:${cluster.node(leader).httpPort}/kv/forwarded`);
    expect(gone.status).toBe(404);
  });

  it("answers ?linearizable reads through the leader's read barrier, also from a follower", async () => {
    const follower = cluster.nodes.find((n) => n.name !== leader);
    if (follower === undefined) throw new Error("no follower");
    expect((await put(cluster.node(leader).httpPort, "lin", "fresh")).status).toBe(200);
    const onLeader = await fetch(
      `http://127.0.0.1:${cluster.node(leader).httpPort}/kv/lin?linearizable`,
    );
    expect(onLeader.status).toBe(200);
    expect(await onLeader.text()).toBe("fresh");
    const viaFollower = await fetch(`http://127.0.0.1:${follower.httpPort}/kv/lin?linearizable`);
    expect(viaFollower.status).toBe(200);
    expect(viaFollower.headers.get("x-raft-leader")).toBe(leader);
    expect(await viaFollower.text()).toBe("fresh");
    const missing = await fetch(`http://127.0.0.1:${follower.httpPort}/kv/nothing?linearizable`);
    expect(missing.status).toBe(404);
  });

  it("reports groups, peers, routes and metrics on /raftz, /varz and /metrics", async () => {
    const raftz = await cluster.kvStatus(leader);
    expect(raftz.state).toBe("leader");
    const peers = raftz.peers.filter((p) => p.id !== raftz.id);
    expect(peers).toHaveLength(2);
    for (const p of peers) {
      expect(p.lag).toBeGreaterThanOrEqual(0);
      expect(p.lastContactMs).toBeLessThan(2_000);
    }
    const varz = (await cluster.json(leader, "/varz")).body;
    expect(varz["serverName"]).toBe(leader);
    expect((varz["routes"] as unknown[]).length).toBe(2);
    expect((varz["fabric"] as Record<string, number>)["connections"]).toBe(2);
    expect((varz["cpu"] as Record<string, number>)["user"]).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${cluster.node(leader).httpPort}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    const declared = new Map<string, string>();
    const helped = new Set<string>();
    for (const line of text.trimEnd().split("\n")) {
      const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
      if (help !== null) {
        helped.add(help[1] as string);
        continue;
      }
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$/.exec(line);
      if (type !== null) {
        expect(helped.has(type[1] as string), `HELP before TYPE of ${type[1]}`).toBe(true);
        declared.set(type[1] as string, type[2] as string);
        continue;
      }
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+]+|NaN|\+Inf|-Inf)$/.exec(
        line,
      );
      expect(sample, `malformed sample line: ${line}`).not.toBeNull();
      expect(declared.has(sample?.[1] as string), `TYPE before ${line}`).toBe(true);
    }
    expect(text).toContain('raft_group_is_leader{group="kv"} 1');
    expect(text).toContain("raft_fabric_connections 2");
    expect(declared.get("raft_wal_syncs_total")).toBe("counter");
    expect(declared.get("raft_wal_mark_syncs_total")).toBe("counter");
    // Every append round also wrote the durable mark (ADR 0006).
    const markSyncs = /raft_wal_mark_syncs_total\{group="kv"\} (\d+)/.exec(text)?.[1];
    expect(Number(markSyncs)).toBeGreaterThan(0);
  });

  it("elects a new leader after SIGKILL of the leader and loses no acknowledged write", async () => {
    killed = leader;
    await cluster.kill(killed, "SIGKILL");
    const next = await cluster.waitForLeader(20_000);
    expect(next).not.toBe(killed);
    leader = next;
    for (const n of cluster.live()) {
      const gone = await waitFor(
        `every acknowledged write on ${n.name}`,
        async () => {
          const m = await missing(n.httpPort, acknowledged);
          return m.length === 0 ? m : undefined;
        },
        15_000,
        250,
      );
      expect(gone).toEqual([]);
    }
    // The surviving pair still accepts writes (quorum 2 of 3).
    const more = Array.from({ length: 100 }, (_, i) => WRITES + i);
    const results = await mapConcurrent(more, 32, (i) =>
      put(cluster.node(leader).httpPort, key(i), value(i)),
    );
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    acknowledged.push(...more);
  });

  it("restarts the killed node, which restores its snapshot and catches up", async () => {
    cluster.start(killed);
    const target = (await cluster.kvStatus(leader)).commit;
    const status = await waitFor(
      `${killed} applied up to ${target}`,
      async () => {
        const s = await cluster.kvStatus(killed);
        return s.applied >= target ? s : undefined;
      },
      20_000,
      200,
    );
    // It restarted from its own snapshot (taken before the kill), then replayed and caught up.
    expect(status.snapshot.index).toBeGreaterThan(0);
    expect(await missing(cluster.node(killed).httpPort, acknowledged)).toEqual([]);
    const health = await waitFor(
      `${killed} /healthz 200`,
      async () => {
        const h = await cluster.json(killed, "/healthz");
        return h.status === 200 ? h : undefined;
      },
      10_000,
    );
    expect(health.body["leader"]).toBe(leader);
  });

  it("steps the leader down on POST /admin/groups/kv/stepdown, to a preferred successor", async () => {
    const before = leader;
    const successor = cluster.nodes.find((n) => n.name !== before);
    if (successor === undefined) throw new Error("no follower");
    const successorId = (await cluster.kvStatus(successor.name)).id;
    const r = await fetch(
      `http://127.0.0.1:${cluster.node(before).httpPort}/admin/groups/kv/stepdown`,
      {
        method: "POST",
        body: JSON.stringify({ preferred: successorId }),
      },
    );
    expect(r.status).toBe(200);
    const after = await waitFor(
      `${successor.name} leading`,
      async () => {
        const l = await cluster.waitForLeader(10_000);
        return l === successor.name ? l : undefined;
      },
      15_000,
    );
    leader = after;
    const refused = await fetch(
      `http://127.0.0.1:${cluster.node(before).httpPort}/admin/groups/kv/stepdown`,
      {
        method: "POST",
      },
    );
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as Record<string, unknown>)["leader"]).toBe(successor.name);
  });
});

describe("node-server without a quorum (1 of 3 processes running)", () => {
  let cluster: ProcessCluster;

  beforeAll(async () => {
    cluster = await ProcessCluster.create({ size: 3 });
    cluster.start("n1");
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  it("reports unhealthy with a reason and refuses writes with 503 NO_LEADER", async () => {
    const health = await waitFor(
      "n1 HTTP up",
      async () => {
        const h = await cluster.json("n1", "/healthz");
        return h;
      },
      20_000,
    );
    expect(health.status).toBe(503);
    expect(health.body["reason"]).toBe("group kv has no leader");
    const r = await fetch(`http://127.0.0.1:${cluster.node("n1").httpPort}/kv/x`, {
      method: "PUT",
      body: "y",
    });
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("1");
    expect(((await r.json()) as Record<string, unknown>)["error"]).toBe("NO_LEADER");

    // The same outcome over NATS: a 503 status with a body (so not "no responders").
    const nc = await connect({
      servers: `127.0.0.1:${cluster.node("n1").clientPort}`,
      reconnect: false,
    });
    try {
      const m = await nc.request("$RAFT.KV.PUT.x", "y", { timeout: 5_000 });
      expect(m.headers?.code).toBe(503);
      expect(m.headers?.get("Raft-Error")).toBe("NO_LEADER");
      expect(m.headers?.get("Retry-After")).toBe("1");
      expect(JSON.parse(m.string())).toMatchObject({ error: "NO_LEADER" });
    } finally {
      await nc.close();
    }
  });
});
