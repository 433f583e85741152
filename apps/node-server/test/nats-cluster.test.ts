import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { connect, headers } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessCluster, waitFor } from "./helpers/process-cluster";

function json(m: Msg): Record<string, unknown> {
  return JSON.parse(m.string()) as Record<string, unknown>;
}

async function natsTo(cluster: ProcessCluster, name: string): Promise<NatsConnection> {
  return connect({ servers: `127.0.0.1:${cluster.node(name).clientPort}`, reconnect: false });
}

const LINEARIZABLE = (() => {
  const h = headers();
  h.set("Raft-Read", "linearizable");
  return h;
})();

/** Puts through `nc` until it succeeds (an election may be in progress); at most `timeoutMs`. */
async function putUntilOk(nc: NatsConnection, key: string, value: string, timeoutMs: number) {
  return waitFor(
    `a successful put of ${key}`,
    async () => {
      const m = await nc.request(`$RAFT.KV.PUT.${key}`, value, { timeout: 5_000 });
      return m.headers?.hasError === true ? undefined : json(m);
    },
    timeoutMs,
    200,
  );
}

describe("KV over NATS on a 3-process cluster", () => {
  let cluster: ProcessCluster;
  const open: NatsConnection[] = [];

  beforeAll(async () => {
    cluster = await ProcessCluster.create({ size: 3 });
    cluster.startAll();
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => {})));
    await cluster?.stopAll();
  });

  it("writes through a follower, reads back linearizably on another node, and survives the leader's death", async () => {
    const leader = await cluster.waitForLeader();
    const [f1, f2] = cluster.nodes.map((n) => n.name).filter((n) => n !== leader) as [
      string,
      string,
    ];
    const onF1 = await natsTo(cluster, f1);
    const onF2 = await natsTo(cluster, f2);
    open.push(onF1, onF2);
    expect(onF1.info?.server_name).toBe(f1);

    // A follower forwards the write to the leader and relays its answer.
    const put = await onF1.request("$RAFT.KV.PUT.k", "v1", { timeout: 10_000 });
    expect(json(put)).toMatchObject({ key: "k", existed: false, leader });
    expect(put.headers).toBeUndefined();

    const read = await onF2.request("$RAFT.KV.GET.k", "", {
      timeout: 10_000,
      headers: LINEARIZABLE,
    });
    expect(read.string()).toBe("v1");
    expect(read.headers?.get("Raft-Leader")).toBe(leader);

    // Core pub/sub and request/reply cross nodes: a subscriber and a responder on f2.
    const seen: string[] = [];
    onF2.subscribe("events.>", {
      callback: (_e, m) => {
        seen.push(`${m.subject}=${m.string()}`);
      },
    });
    onF2.subscribe("svc.echo", {
      callback: (_e, m) => {
        m.respond(`f2 got ${m.string()}`);
      },
    });
    await onF2.flush();
    const answer = await waitFor(
      "a cross-node reply (interest propagates over the routes first)",
      () =>
        onF1
          .request("svc.echo", "hi", { timeout: 2_000 })
          .then((m) => m.string())
          .catch(() => undefined),
      10_000,
      100,
    );
    expect(answer).toBe("f2 got hi");
    onF1.publish("events.created", "e1");
    await waitFor("the forwarded event", () => (seen.length === 1 ? true : undefined), 5_000);
    expect(seen).toEqual(["events.created=e1"]);

    await cluster.kill(leader, "SIGKILL");
    const next = await cluster.waitForLeader(20_000);
    expect(next).not.toBe(leader);
    const again = await putUntilOk(onF1, "k", "v2", 20_000);
    expect(again).toMatchObject({ key: "k", existed: true, leader: next });
    const after = await onF2.request("$RAFT.KV.GET.k", "", {
      timeout: 10_000,
      headers: LINEARIZABLE,
    });
    expect(after.string()).toBe("v2");
  });
});
