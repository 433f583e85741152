import type { Server, Socket } from "node:net";
import { createServer } from "node:net";
import { fc } from "@fast-check/vitest";
import { afterEach, describe, expect, it } from "vitest";
import type { RouteFabric } from "../../src/fabric/route-fabric";
import { encodeRouteFrame, RouteOp } from "../../src/fabric/route-frames";
import type { FabricMessage } from "../../src/fabric/types";
import { bytes, field, testSeed, waitFor } from "./helpers";
import { RawPeer, RouteCluster } from "./route-harness";

let cluster = new RouteCluster();
const raws: RawPeer[] = [];
const servers: Server[] = [];
const accepted: Socket[] = [];
afterEach(async () => {
  await cluster.closeAll();
  cluster = new RouteCluster();
  for (const raw of raws.splice(0)) raw.destroy();
  for (const socket of accepted.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function raw(fabric: RouteFabric): Promise<RawPeer> {
  const peer = await RawPeer.connect(fabric.address().port);
  raws.push(peer);
  return peer;
}

/** Two healthy servers, so each test can check that `a` keeps serving `b` after the abuse. */
async function healthyPair(): Promise<{ a: RouteFabric; b: RouteFabric; atB: FabricMessage[] }> {
  const a = await cluster.start("a", []);
  const b = await cluster.start("b", [a]);
  const atB: FabricMessage[] = [];
  b.subscribe("still.ok", (m) => atB.push(m));
  await waitFor(() => a.routes()[0]?.interest === 1, "healthy route");
  return { a, b, atB };
}

async function stillServes(a: RouteFabric, atB: FabricMessage[]): Promise<void> {
  const before = atB.length;
  expect(a.publish("still.ok", undefined, bytes("yes")).sent).toBe(1);
  await waitFor(() => atB.length === before + 1, "a still serves b");
}

function protocolErrors(serverName: string): { code: unknown; reason: unknown }[] {
  return cluster
    .log(serverName)
    .filter((r) => r.level === "error" && r.msg === "route protocol error")
    .map((r) => ({ code: field(r, "code"), reason: field(r, "reason") }));
}

describe("RouteFabric bad input", () => {
  it("closes a connection that sends garbage instead of a HELLO and keeps serving", async () => {
    const { a, atB } = await healthyPair();
    const peer = await raw(a);
    peer.writeRaw(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await waitFor(() => peer.closed, "garbage connection closed");
    expect(protocolErrors("a")).toEqual([
      { code: "FRAME_TOO_LARGE", reason: expect.stringContaining("exceeds the limit") },
    ]);
    // The peer is told why before the socket goes.
    expect(peer.frames.at(-1)).toMatchObject({ op: RouteOp.Err });
    expect(a.metrics().protocolErrors).toBe(1);
    await stillServes(a, atB);
  });

  it("reports a frame truncated by the peer closing mid-frame", async () => {
    const { a, atB } = await healthyPair();
    const peer = await raw(a);
    peer.hello("x");
    const msg = encodeRouteFrame({
      op: RouteOp.Msg,
      subject: "s",
      reply: undefined,
      data: bytes("payload"),
    });
    peer.socket.end(msg.subarray(0, msg.length - 3));
    await waitFor(() => protocolErrors("a").length === 1, "truncation logged");
    expect(protocolErrors("a")[0]?.code).toBe("TRUNCATED_FRAME");
    await stillServes(a, atB);
  });

  it("refuses an oversized frame after the handshake", async () => {
    const { a, atB } = await healthyPair();
    const peer = await raw(a);
    peer.hello("x");
    const header = new Uint8Array(5);
    new DataView(header.buffer).setUint32(0, 9 * 1024 * 1024, true);
    header[4] = RouteOp.Msg;
    peer.writeRaw(header);
    await waitFor(() => peer.closed, "closed");
    expect(protocolErrors("a").map((e) => e.code)).toEqual(["FRAME_TOO_LARGE"]);
    await stillServes(a, atB);
  });

  it("refuses an unknown op, a frame before HELLO and a bad cluster, each with its code", async () => {
    const { a, atB } = await healthyPair();
    const unknown = await raw(a);
    unknown.hello("x");
    unknown.writeRaw(Uint8Array.of(1, 0, 0, 0, 42));
    const early = await raw(a);
    early.send({ op: RouteOp.Sub, subject: "a" });
    const foreign = await raw(a);
    foreign.hello("y", "elsewhere");
    await waitFor(() => unknown.closed && early.closed && foreign.closed, "all closed");
    expect(
      protocolErrors("a")
        .map((e) => e.code)
        .sort(),
    ).toEqual(["HANDSHAKE_FAILED", "HANDSHAKE_FAILED", "UNKNOWN_OP"]);
    await stillServes(a, atB);
  });

  it("survives random bytes on many connections", async () => {
    const { a, atB } = await healthyPair();
    const seed = testSeed(99);
    const samples = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 512 }), {
      seed,
      numRuns: 25,
    });
    const peers: RawPeer[] = [];
    for (const [i, garbage] of samples.entries()) {
      const peer = await raw(a);
      // Half the samples come after a valid HELLO, to reach the post-handshake decoder.
      if (i % 2 === 0) peer.hello(`fuzz${i}`);
      peer.writeRaw(garbage);
      peer.socket.end();
      peers.push(peer);
    }
    await waitFor(() => peers.every((p) => p.closed), `fuzz connections closed (SEED=${seed})`);
    await stillServes(a, atB);
  });

  it("times out a connection that never says HELLO", async () => {
    const a = await cluster.start("a", [], { limits: { handshakeTimeoutMs: 100 } });
    const peer = await raw(a);
    await waitFor(() => peer.closed, "handshake timeout", 2_000);
    expect(protocolErrors("a").map((e) => e.code)).toEqual(["HANDSHAKE_FAILED"]);
  });

  it("drops a peer that stops answering keepalive pings", async () => {
    const a = await cluster.start("a", [], {
      limits: { pingIntervalMs: 40, maxPingsOutstanding: 2 },
    });
    const peer = await raw(a);
    peer.hello("silent");
    await waitFor(() => a.routes().length === 1, "route up");
    await waitFor(() => peer.closed, "stale route closed", 2_000);
    expect(peer.frames.filter((f) => f.op === RouteOp.Ping).length).toBeGreaterThanOrEqual(2);
    expect(cluster.log("a").some((r) => field(r, "code") === "STALE_CONNECTION")).toBe(true);
  });

  it("bounds the interest a peer may register", async () => {
    const a = await cluster.start("a", [], { limits: { maxInterestPerRoute: 3 } });
    const peer = await raw(a);
    peer.hello("greedy");
    for (const s of ["s1", "s2", "s3", "s3", "s4"]) peer.send({ op: RouteOp.Sub, subject: s });
    await waitFor(() => peer.closed, "closed");
    expect(protocolErrors("a").map((e) => e.code)).toEqual(["INTEREST_LIMIT"]);
  });

  it("redials with backoff after a peer it dialed answers garbage", async () => {
    const fake = createServer((socket) => {
      accepted.push(socket);
      socket.on("error", () => {});
      socket.end(bytes("\u0001\u0000\u0000\u0000\u00ff"));
    });
    servers.push(fake);
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
    const address = fake.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    await cluster.start("a", [{ host: "127.0.0.1", port }]);
    const attempts = (): unknown[] =>
      cluster
        .log("a")
        .filter((r) => r.msg === "route redial scheduled")
        .map((r) => field(r, "attempt"));
    await waitFor(() => accepted.length >= 3 && attempts().length >= 3, "redials");
    const errors = protocolErrors("a");
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors[0]?.code).toBe("UNKNOWN_OP");
    // Each failed handshake backs off further: attempt numbers grow.
    expect(attempts().slice(0, 3)).toEqual([1, 2, 3]);
  });
});
