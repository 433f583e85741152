import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mapConcurrent, ProcessCluster, waitFor } from "./helpers/process-cluster";

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(port: number, method: string, path: string, body?: unknown): Promise<Answer> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe("node-server membership changes (4 real processes, 3 founders)", () => {
  let cluster: ProcessCluster;
  let leader: string;
  const written: string[] = [];

  const writeKeys = async (prefix: string, count: number): Promise<void> => {
    const keys = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    const statuses = await mapConcurrent(keys, 8, async (k) => {
      const r = await fetch(`http://127.0.0.1:${cluster.node(leader).httpPort}/kv/${k}`, {
        method: "PUT",
        body: `v-${k}`,
      });
      return r.status;
    });
    expect(statuses.every((s) => s === 200)).toBe(true);
    written.push(...keys);
  };

  const hasAll = async (name: string): Promise<boolean> => {
    const ok = await mapConcurrent(written, 16, async (k) => {
      const r = await fetch(`http://127.0.0.1:${cluster.node(name).httpPort}/kv/${k}`);
      return r.status === 200 && (await r.text()) === `v-${k}`;
    });
    return ok.every(Boolean);
  };

  beforeAll(async () => {
    cluster = await ProcessCluster.create({ size: 4, joiners: 1 });
    for (const n of ["n1", "n2", "n3"]) cluster.start(n);
  });

  afterAll(async () => {
    await cluster?.stopAll();
  });

  it("adds a fourth server with POST /admin/groups/kv/peers, which then replicates", async () => {
    leader = await cluster.waitForLeader(20_000);
    await writeKeys("before", 50);
    cluster.start("n4");
    // The new server runs the group (bootstrapped from its own config) before it is added.
    const n4Id = (await waitFor("n4 up", () => cluster.kvStatus("n4"), 20_000)).id;
    const follower = ["n1", "n2", "n3"].find((n) => n !== leader) as string;
    const refused = await call(cluster.node(follower).httpPort, "POST", "/admin/groups/kv/peers", {
      server: "n4",
    });
    expect(refused.status).toBe(409);
    expect(refused.body["leader"]).toBe(leader);

    const added = await call(cluster.node(leader).httpPort, "POST", "/admin/groups/kv/peers", {
      server: "n4",
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body["added"]).toBe(n4Id);
    expect((added.body["peers"] as { id: string }[]).map((p) => p.id)).toContain(n4Id);
    expect((await cluster.kvStatus(leader)).clusterSize).toBe(4);

    const again = await call(cluster.node(leader).httpPort, "POST", "/admin/groups/kv/peers", {
      server: "n4",
    });
    expect(again.status).toBe(409);
    expect(again.body["reason"]).toBe("ALREADY_MEMBER");

    await writeKeys("after-add", 50);
    await waitFor(
      "n4 to hold every write",
      async () => ((await hasAll("n4")) ? true : undefined),
      20_000,
      250,
    );
    const n4 = await cluster.kvStatus("n4");
    expect(n4.leaderId).toBe((await cluster.kvStatus(leader)).id);
    await waitFor(
      "n4 /healthz 200",
      async () => ((await cluster.json("n4", "/healthz")).status === 200 ? true : undefined),
      10_000,
    );
  });

  it("removes it again with DELETE /admin/groups/kv/peers/n4 sent to a follower", async () => {
    const follower = ["n1", "n2", "n3"].find((n) => n !== leader) as string;
    const removed = await call(
      cluster.node(follower).httpPort,
      "DELETE",
      "/admin/groups/kv/peers/n4",
    );
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    const n4Id =
      (await cluster.kvStatus("n1")).peers.length > 0 ? removed.body["removed"] : undefined;
    await waitFor(
      "the leader to see 3 members",
      async () => {
        const s = await cluster.kvStatus(leader);
        return s.clusterSize === 3 && !s.peers.some((p) => p.id === n4Id) ? true : undefined;
      },
      10_000,
    );
    // n4 keeps running, and its /healthz and /raftz say it is no longer a member.
    await waitFor(
      "n4 to report that it is not a member",
      async () => {
        const h = await cluster.json("n4", "/healthz");
        return h.status === 503 && h.body["reason"] === "this server is not a member of group kv"
          ? h
          : undefined;
      },
      10_000,
    );
    const { body: rz } = await cluster.json(leader, "/raftz");
    const members = (rz["groups"] as Record<string, { members: { server: string }[] }>)["kv"]
      ?.members;
    expect(members?.map((m) => m.server).sort()).toEqual(["n1", "n2", "n3"]);
    // With n4 gone for good, the three founders still commit.
    await cluster.kill("n4", "SIGKILL");
    await writeKeys("after-remove", 20);
    for (const n of ["n1", "n2", "n3"]) {
      await waitFor(
        `${n} to hold every write`,
        async () => ((await hasAll(n)) ? true : undefined),
        15_000,
        250,
      );
    }
    const unknown = await call(
      cluster.node(leader).httpPort,
      "DELETE",
      "/admin/groups/kv/peers/nobody",
    );
    expect(unknown.status).toBe(409);
    expect(unknown.body["reason"]).toBe("UNKNOWN_PEER");
    const badBody = await call(cluster.node(leader).httpPort, "POST", "/admin/groups/kv/peers", {
      server: "n5",
      id: "abcdefgh",
    });
    expect(badBody.status).toBe(400);
  });
});
