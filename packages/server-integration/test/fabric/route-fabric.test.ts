import { RaftError } from "@raft/codec";
import { afterEach, describe, expect, it } from "vitest";
import { createSeededRandom } from "../../src/fabric/seeded-random";
import type { FabricMessage } from "../../src/fabric/types";
import { bytes, field, sleep, text, waitFor } from "./helpers";
import { RouteCluster } from "./route-harness";

let cluster = new RouteCluster();
afterEach(async () => {
  await cluster.closeAll();
  cluster = new RouteCluster();
});

function collect(
  fabric: { subscribe: (s: string, h: (m: FabricMessage) => void) => unknown },
  subject: string,
): FabricMessage[] {
  const got: FabricMessage[] = [];
  fabric.subscribe(subject, (m) => got.push(m));
  return got;
}

describe("RouteFabric", () => {
  it("connects three servers into a mesh and carries requests and replies both ways", async () => {
    const a = await cluster.start("a", []);
    const b = await cluster.start("b", [a]);
    const c = await cluster.start("c", [a, b]);
    // Every server lists every other, as a real config would: each pair dials both ways.
    a.addPeer({ name: "b", ...b.address() });
    a.addPeer({ name: "c", ...c.address() });
    b.addPeer({ name: "c", ...c.address() });
    const fabrics = [a, b, c];
    for (const f of fabrics) {
      f.subscribe("$NRG.V.g", (m) => {
        if (m.reply !== undefined)
          f.publish(m.reply, undefined, bytes(`${f.serverName}:${text(m.data)}`));
      });
    }
    const inboxes = fabrics.map((f) => collect(f, `$NRG.R.${f.serverName}inbox`));
    // Wait for duplicate resolution to settle: the smaller name's dialed connection per pair.
    const dialedBySmaller = (): boolean =>
      a.routes().every((r) => r.direction === "outbound") &&
      c.routes().every((r) => r.direction === "inbound") &&
      fabrics.every((f) => f.routes().length === 2);
    await waitFor(dialedBySmaller, "full mesh");
    await waitFor(
      () => fabrics.every((f) => f.routes().every((r) => r.interest === 2)),
      "interest",
    );
    for (const f of fabrics) {
      expect(f.publish("$NRG.V.g", `$NRG.R.${f.serverName}inbox`, bytes("vote"))).toEqual({
        sent: 2,
        dropped: 0,
      });
    }
    await waitFor(() => inboxes.every((i) => i.length === 2), "replies");
    expect(inboxes[0]?.map((m) => text(m.data)).sort()).toEqual(["b:vote", "c:vote"]);
    expect(inboxes[2]?.map((m) => text(m.data)).sort()).toEqual(["a:vote", "b:vote"]);
    expect(a.metrics()).toMatchObject({ connections: 2, messagesIn: 4, messagesOut: 4 });
    await sleep(100);
    // Exactly one connection survives per pair, the one dialed by the smaller name.
    expect(
      c
        .routes()
        .map((r) => [r.name, r.direction])
        .sort(),
    ).toEqual([
      ["a", "inbound"],
      ["b", "inbound"],
    ]);
    expect(a.routes().every((r) => r.direction === "outbound")).toBe(true);
    expect(
      b
        .routes()
        .map((r) => [r.name, r.direction])
        .sort(),
    ).toEqual([
      ["a", "inbound"],
      ["c", "outbound"],
    ]);
  });

  it("never delivers a server's own publish to itself", async () => {
    const a = await cluster.start("a", []);
    const b = await cluster.start("b", [a]);
    const atA = collect(a, "x");
    const atB = collect(b, "x");
    await waitFor(() => a.routes()[0]?.interest === 1 && b.routes()[0]?.interest === 1, "interest");
    a.publish("x", undefined, bytes("from a"));
    await waitFor(() => atB.length === 1, "delivery to b");
    await sleep(30);
    expect(atA).toEqual([]);
  });

  it("sends only subjects a peer subscribed to, and stops after unsubscribe", async () => {
    const a = await cluster.start("a", []);
    const b = await cluster.start("b", [a]);
    await waitFor(() => a.routes().length === 1 && b.routes().length === 1, "route");
    expect(a.publish("nobody.listens", undefined, bytes("x"))).toEqual({ sent: 0, dropped: 0 });
    const got: FabricMessage[] = [];
    const sub = b.subscribe("$NRG.AE.*", (m) => got.push(m));
    const second = b.subscribe("$NRG.AE.*", () => {});
    await waitFor(() => a.routes()[0]?.interest === 1, "SUB reaches a");
    expect(a.publish("$NRG.AE.g1", undefined, bytes("1")).sent).toBe(1);
    await waitFor(() => got.length === 1, "delivery");
    sub.unsubscribe();
    await sleep(30);
    // Another handler still holds the pattern: interest stays.
    expect(a.routes()[0]?.interest).toBe(1);
    second.unsubscribe();
    await waitFor(() => a.routes()[0]?.interest === 0, "UNSUB reaches a");
    expect(a.publish("$NRG.AE.g1", undefined, bytes("2")).sent).toBe(0);
    expect(a.metrics().bytesOut).toBe(1);
  });

  it("re-establishes a route with backoff after a server goes away and comes back", async () => {
    const a = await cluster.start("a", []);
    const port = a.address().port;
    const b = await cluster.start("b", [{ name: "a", host: "127.0.0.1", port }], {
      random: createSeededRandom(5),
    });
    await waitFor(() => b.routes().length === 1, "first route");
    const atB = collect(b, "x");
    await a.close();
    await waitFor(() => b.routes().length === 0, "b notices");
    const redialLog = (): { attempt: number; delayMs: number }[] =>
      cluster
        .log("b")
        .filter((r) => r.msg === "route redial scheduled")
        .map((r) => r.obj as { attempt: number; delayMs: number });
    await waitFor(() => redialLog().length >= 4, "refused redials");
    const redials = redialLog();
    // Refused dials back off: attempts count up, each delay within [cap/2, cap].
    expect(redials.length).toBeGreaterThanOrEqual(3);
    redials.forEach((r, i) => {
      expect(r.attempt).toBe(i);
      const cap = Math.min(200, 20 * 2 ** r.attempt);
      expect(r.delayMs).toBeGreaterThanOrEqual(cap / 2);
      expect(r.delayMs).toBeLessThanOrEqual(cap);
    });
    expect(cluster.log("b").some((r) => r.level === "warn" && r.msg === "route closed")).toBe(true);
    const a2 = await cluster.start("a", [], { listen: { host: "127.0.0.1", port } });
    await waitFor(() => b.routes().length === 1 && a2.routes()[0]?.interest === 1, "route back");
    a2.publish("x", undefined, bytes("again"));
    await waitFor(() => atB.length === 1, "delivery resumes");
    expect(b.metrics()).toMatchObject({
      reconnects: 1,
      connectionsOpened: 2,
      connectionsClosed: 1,
    });
  });

  it("keeps one connection when two servers dial each other at once", async () => {
    const a = await cluster.start("a", []);
    const b = await cluster.start("b", [a]);
    a.addPeer({ name: "b", ...b.address() });
    const got = collect(b, "x");
    await waitFor(() => a.routes().length === 1 && b.routes().length === 1, "route");
    await sleep(150);
    expect(a.routes()).toHaveLength(1);
    // Both connections came up and the first side to see both closed one. (The other side may
    // only see a reset, depending on timing.)
    const resolved = ["a", "b"].some((name) =>
      cluster.log(name).some((r) => field(r, "reason") === "duplicate route"),
    );
    expect(resolved).toBe(true);
    for (const f of [a, b]) {
      const m = f.metrics();
      expect(m.connectionsOpened - m.connectionsClosed).toBe(m.connections);
      expect(m.reconnects).toBe(0);
    }
    expect(a.routes()[0]?.direction).toBe("outbound");
    expect(b.routes()[0]?.direction).toBe("inbound");
    await waitFor(() => a.routes()[0]?.interest === 1, "interest");
    a.publish("x", undefined, bytes("once"));
    await waitFor(() => got.length === 1, "delivery");
    await sleep(30);
    expect(got).toHaveLength(1);
    // The losing dialer parks instead of redialing in a loop.
    const redials = (): number =>
      cluster.log("b").filter((r) => r.msg === "route redial scheduled").length;
    const settled = redials();
    await sleep(200);
    expect(redials()).toBe(settled);
    expect(settled).toBeLessThanOrEqual(3);
  });

  it("skips its own address in the peer list", async () => {
    const a = await cluster.start("a", []);
    a.addPeer(a.address());
    await sleep(100);
    expect(a.routes()).toEqual([]);
    expect(cluster.log("a").filter((r) => r.msg === "route redial scheduled")).toEqual([]);
  });

  it("refuses a peer from another cluster and logs why", async () => {
    const a = await cluster.start("a", []);
    await cluster.start("b", [a], { clusterName: "other" });
    await waitFor(
      () =>
        cluster
          .log("a")
          .some((r) => r.level === "error" && String(field(r, "reason")).includes("cluster")),
      "cluster mismatch logged",
    );
    expect(a.routes()).toEqual([]);
  });

  it("fails with LISTEN_FAILED when the port is taken, and refuses a bad peer address", async () => {
    const a = await cluster.start("a", []);
    const taken = cluster.start("b", [], { listen: { host: "127.0.0.1", port: a.address().port } });
    await expect(taken).rejects.toMatchObject({ name: "FabricError", code: "LISTEN_FAILED" });
    await expect(taken).rejects.toBeInstanceOf(RaftError);
    expect(() => a.addPeer({ host: "127.0.0.1", port: 70_000 })).toThrow(RangeError);
    expect(() => a.addPeer({ host: "", port: 4222 })).toThrow(RangeError);
    await a.close();
    expect(() => a.publish("x", undefined, bytes(""))).toThrow(
      expect.objectContaining({ code: "CLOSED" }),
    );
  });

  it("propagates wildcard interest and survives a throwing handler", async () => {
    const a = await cluster.start("a", []);
    const b = await cluster.start("b", [a]);
    const monitor = collect(b, "$NRG.>");
    b.subscribe("$NRG.V.*", () => {
      throw new Error("handler bug");
    });
    await waitFor(() => a.routes()[0]?.interest === 2, "wildcard interest");
    expect(a.publish("$NRG.V.g", "$NRG.R.abc", bytes("1")).sent).toBe(1);
    expect(a.publish("$NRG.AE.g", undefined, bytes("2")).sent).toBe(1);
    expect(a.publish("$NRGX.AE.g", undefined, bytes("3")).sent).toBe(0);
    await waitFor(() => monitor.length === 2, "monitor sees both");
    expect(monitor.map((m) => [m.subject, m.reply])).toEqual([
      ["$NRG.V.g", "$NRG.R.abc"],
      ["$NRG.AE.g", undefined],
    ]);
    expect(b.metrics()).toMatchObject({ handlerErrors: 1, connections: 1, messagesIn: 2 });
    expect(cluster.log("b").some((r) => r.msg === "subscription handler threw")).toBe(true);
  });
});
