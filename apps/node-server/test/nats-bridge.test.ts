import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { connect, headers } from "@nats-io/transport-node";
import type { RouteFabric } from "@raft/server-integration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientListener } from "../src/nats/client-listener";
import { BRIDGE_PREFIX, ClusterBridge } from "../src/nats/cluster-bridge";
import { waitFor } from "./helpers/process-cluster";
import { memoryLogger, startBridgedListener } from "./helpers/raw-nats";

interface Side {
  readonly fabric: RouteFabric;
  readonly bridge: ClusterBridge;
  readonly listener: ClientListener;
  readonly clients: NatsConnection[];
}

async function side(name: string): Promise<Side> {
  return { ...(await startBridgedListener(name, "bridge-test")), clients: [] };
}

async function client(s: Side): Promise<NatsConnection> {
  const nc = await connect({ servers: `127.0.0.1:${s.listener.address.port}`, reconnect: false });
  s.clients.push(nc);
  return nc;
}

/** Waits until `s`'s peer registered at least `n` patterns with `s` (interest propagated). */
function interestAt(s: Side, n: number): Promise<true> {
  return waitFor(
    `${n} patterns of interest at ${s.fabric.serverName}`,
    () => (s.fabric.routes().some((r) => r.interest >= n) ? true : undefined),
    5_000,
    10,
  );
}

function collect(nc: NatsConnection, subject: string, queue?: string): Msg[] {
  const got: Msg[] = [];
  nc.subscribe(subject, {
    ...(queue === undefined ? {} : { queue }),
    callback: (_err, m) => {
      got.push(m);
    },
  });
  return got;
}

describe("ClusterBridge between two listeners over real routes", () => {
  let a: Side;
  let b: Side;

  beforeAll(async () => {
    a = await side("a");
    b = await side("b");
    a.fabric.addPeer({ name: "b", host: "127.0.0.1", port: b.fabric.address().port });
    await waitFor("the route", () => (a.fabric.routes().length === 1 ? true : undefined), 5_000);
    await waitFor("the route", () => (b.fabric.routes().length === 1 ? true : undefined), 5_000);
  });

  afterAll(async () => {
    for (const s of [a, b]) {
      if (s === undefined) continue;
      await Promise.all(s.clients.map((c) => c.close().catch(() => {})));
      await s.listener.close();
      s.bridge.close();
      await s.fabric.close();
    }
  });

  it("delivers a message published on one node to subscribers on the other, once per subscription", async () => {
    const sub = await client(b);
    const star = collect(sub, "bridge.*");
    const tail = collect(sub, "bridge.>");
    await sub.flush();
    await interestAt(a, 2);
    const pub = await client(a);
    const h = headers();
    h.set("X-From", "a");
    pub.publish("bridge.one", "hello", { headers: h });
    await waitFor(
      "both subscriptions",
      () => (star.length + tail.length >= 2 ? true : undefined),
      5_000,
    );
    await sub.flush();
    // Two patterns match, so the fabric calls the bridge twice: each subscription still gets it once.
    expect(star.map((m) => m.string())).toEqual(["hello"]);
    expect(tail.map((m) => m.string())).toEqual(["hello"]);
    expect(tail[0]?.headers?.get("X-From")).toBe("a");
    expect(b.bridge.stats().received).toBe(1);
  });

  it("answers requests across nodes, and reports no responders when no node listens", async () => {
    const responder = await client(b);
    responder.subscribe("svc.time", {
      callback: (_err, m) => {
        m.respond(`from b: ${m.string()}`);
      },
    });
    await responder.flush();
    await interestAt(a, 3);
    const requester = await client(a);
    const reply = await requester.request("svc.time", "now?", { timeout: 5_000 });
    expect(reply.string()).toBe("from b: now?");
    const none = await requester
      .request("svc.nobody", "", { timeout: 5_000 })
      .catch((e: unknown) => e);
    expect((none as { isNoResponders?: () => boolean }).isNoResponders?.()).toBe(true);
  });

  it("keeps services inside a node local", async () => {
    b.listener.subscribe("internal.only", () => {
      throw new Error("a service got a message from another node");
    });
    const requester = await client(a);
    const r = await requester
      .request("internal.only", "", { timeout: 5_000 })
      .catch((e: unknown) => e);
    expect((r as { isNoResponders?: () => boolean }).isNoResponders?.()).toBe(true);
  });

  it("serves a queue group on the publisher's node only, and once on another node otherwise", async () => {
    const onA = await client(a);
    const onB = await client(b);
    const localMember = collect(onA, "work.local", "w");
    const remoteMember = collect(onB, "work.local", "w");
    const remote1 = collect(onB, "work.remote", "w");
    const remote2 = collect(onB, "work.remote", "w");
    await onA.flush();
    await onB.flush();
    await interestAt(a, 5);
    const pub = await client(a);
    for (let i = 0; i < 20; i++) {
      pub.publish("work.local", String(i));
      pub.publish("work.remote", String(i));
    }
    await pub.flush();
    await waitFor("20 local", () => (localMember.length === 20 ? true : undefined), 5_000);
    await waitFor(
      "20 remote",
      () => (remote1.length + remote2.length === 20 ? true : undefined),
      5_000,
    );
    await onB.flush();
    expect(remoteMember).toEqual([]);
    expect(remote1.length + remote2.length).toBe(20);
  });

  it("drops malformed forwarded frames and withdraws interest when subscribers leave", async () => {
    const nc = await client(b);
    const got = collect(nc, "garbage.in");
    await nc.flush();
    const before = b.bridge.stats();
    await waitFor(
      "interest in garbage.in",
      () =>
        a.fabric.publish(`${BRIDGE_PREFIX}garbage.in`, undefined, Uint8Array.of(9, 9, 9)).sent > 0
          ? true
          : undefined,
      5_000,
    );
    await waitFor(
      "the drop",
      () => (b.bridge.stats().malformed > before.malformed ? true : undefined),
      5_000,
    );
    expect(got).toEqual([]);
    const patterns = b.bridge.stats().patterns;
    await nc.close();
    await waitFor(
      "interest withdrawn",
      () => (b.bridge.stats().patterns === patterns - 1 ? true : undefined),
      5_000,
    );
  });
});

/** A fabric port that records calls (a fake of the port, not of our code). */
function recordingFabric(result: () => { sent: number; dropped: number }) {
  const subscribed: string[] = [];
  const unsubscribed: string[] = [];
  const published: string[] = [];
  const fabric = {
    publish(subject: string): { sent: number; dropped: number } {
      published.push(subject);
      return result();
    },
    subscribe(subject: string): { unsubscribe(): void } {
      subscribed.push(subject);
      return { unsubscribe: () => unsubscribed.push(subject) };
    },
  };
  return { fabric, subscribed, unsubscribed, published };
}

const MSG = { subject: "a.b", reply: undefined, headers: undefined, payload: new Uint8Array(1) };

describe("ClusterBridge bounds", () => {
  it("registers each pattern once, withdraws it with its last subscriber, and caps the patterns", () => {
    const f = recordingFabric(() => ({ sent: 0, dropped: 0 }));
    const logger = memoryLogger();
    const bridge = new ClusterBridge({ fabric: f.fabric, origin: "n1", maxPatterns: 2, logger });
    bridge.interestAdded("a.*");
    bridge.interestAdded("a.*");
    bridge.interestAdded("b.>");
    bridge.interestAdded("c");
    bridge.interestAdded("d");
    expect(f.subscribed).toEqual([`${BRIDGE_PREFIX}a.*`, `${BRIDGE_PREFIX}b.>`]);
    expect(bridge.stats()).toMatchObject({ patterns: 2, patternsRefused: 2 });
    expect(logger.lines.filter((l) => l.level === "warn")).toHaveLength(1);
    bridge.interestRemoved("a.*");
    expect(f.unsubscribed).toEqual([]);
    bridge.interestRemoved("a.*");
    expect(f.unsubscribed).toEqual([`${BRIDGE_PREFIX}a.*`]);
    bridge.interestRemoved("c"); // never registered: no effect
    bridge.close();
    expect(f.unsubscribed).toEqual([`${BRIDGE_PREFIX}a.*`, `${BRIDGE_PREFIX}b.>`]);
  });

  it("stops forwarding while the routes are congested, and survives a fabric that throws", () => {
    let congested = true;
    const f = recordingFabric(() => ({ sent: 2, dropped: 1 }));
    const bridge = new ClusterBridge({
      fabric: f.fabric,
      origin: "n1",
      maxPatterns: 10,
      congested: () => congested,
      logger: memoryLogger(),
    });
    // Interest unknown while congested: 1, so that a request times out rather than hearing
    // "no responders".
    expect(bridge.forward(MSG, [])).toBe(1);
    expect(f.published).toEqual([]);
    congested = false;
    expect(bridge.forward(MSG, ["q"])).toBe(3);
    expect(f.published).toEqual([`${BRIDGE_PREFIX}a.b`]);
    expect(bridge.stats()).toMatchObject({ forwarded: 1, dropped: 2 });
    const throwing = new ClusterBridge({
      fabric: {
        publish: () => {
          throw new Error("PAYLOAD_TOO_LARGE");
        },
        subscribe: () => {
          throw new Error("INVALID_SUBJECT");
        },
      },
      origin: "n1",
      maxPatterns: 10,
      logger: memoryLogger(),
    });
    expect(throwing.forward(MSG, [])).toBe(0);
    throwing.interestAdded("x");
    expect(throwing.stats()).toMatchObject({ dropped: 1, patterns: 0, patternsRefused: 1 });
  });
});
