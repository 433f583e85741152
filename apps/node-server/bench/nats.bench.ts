import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, bench, describe } from "vitest";
import { parseNodeConfig } from "../src/config";
import { createAppLogger } from "../src/logger";
import { startNode } from "../src/node";
import { FAST_TIMING, waitFor } from "../test/helpers/process-cluster";
import { startBridgedListener, startTestListener } from "../test/helpers/raw-nats";

// Each bench iteration is a batch; msgs/s = hz × batch size (see the README's Benchmarks).
const PUBSUB_BATCH = 10_000;
const KV_BATCH = 1_000;
const KV_OUTSTANDING = 64;

// Local pub/sub: an in-process listener, a nats.js publisher and a nats.js subscriber.
const listener = await startTestListener();
const servers = `127.0.0.1:${listener.address.port}`;
const pub = await connect({ servers, reconnect: false });
const sub = await connect({ servers, reconnect: false });
let received = 0;
sub.subscribe("bench.pubsub", {
  callback: () => {
    received++;
  },
});
await sub.flush();
const payload = new Uint8Array(128);

// Cross-node pub/sub: two listeners, each with a bridge over a real route (both in this process).
const sideA = await startBridgedListener("a", "bench");
const sideB = await startBridgedListener("b", "bench");
sideA.fabric.addPeer({ name: "b", host: "127.0.0.1", port: sideB.fabric.address().port });
const remotePub = await connect({
  servers: `127.0.0.1:${sideA.listener.address.port}`,
  reconnect: false,
});
const remoteSub = await connect({
  servers: `127.0.0.1:${sideB.listener.address.port}`,
  reconnect: false,
});
let remoteReceived = 0;
remoteSub.subscribe("bench.remote", {
  callback: () => {
    remoteReceived++;
  },
});
await remoteSub.flush();
await waitFor(
  "interest at a",
  () => (sideA.fabric.routes().some((r) => r.interest >= 1) ? true : undefined),
  10_000,
);

// KV: one in-process node (a group of one, WAL fsync before every acknowledgement).
const dir = await mkdtemp(join(tmpdir(), "node-server-nats-bench-"));
const parsed = parseNodeConfig({
  serverName: "bench",
  listen: "127.0.0.1:0",
  http: "127.0.0.1:0",
  client: { port: 0 },
  dataDir: join(dir, "bench"),
  logLevel: "fatal",
  timing: FAST_TIMING,
});
if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
const node = await startNode(parsed.config, createAppLogger("fatal", "bench"));
await waitFor("the node to lead", () => (node.kv.isLeader() ? true : undefined), 10_000);
const nc = await connect({ servers: `127.0.0.1:${node.client.port}`, reconnect: false });
const value = new Uint8Array(256);
let n = 0;

afterAll(async () => {
  await remotePub.close();
  await remoteSub.close();
  for (const side of [sideA, sideB]) {
    await side.listener.close();
    side.bridge.close();
    await side.fabric.close();
  }
  await pub.close();
  await sub.close();
  await listener.close();
  await nc.close();
  await node.close();
  await rm(dir, { recursive: true, force: true });
});

describe("NATS listener", () => {
  bench(
    `pub/sub: ${PUBSUB_BATCH} messages of 128 B, publisher to subscriber on one node`,
    async () => {
      const target = received + PUBSUB_BATCH;
      for (let i = 0; i < PUBSUB_BATCH; i++) pub.publish("bench.pubsub", payload);
      await pub.flush();
      await waitFor("the batch", () => (received >= target ? true : undefined), 30_000, 1);
    },
    { time: 3_000, warmupIterations: 2 },
  );

  bench(
    `pub/sub across nodes: ${PUBSUB_BATCH} messages of 128 B, publisher on a, subscriber on b`,
    async () => {
      const target = remoteReceived + PUBSUB_BATCH;
      for (let i = 0; i < PUBSUB_BATCH; i++) remotePub.publish("bench.remote", payload);
      await remotePub.flush();
      await waitFor("the batch", () => (remoteReceived >= target ? true : undefined), 30_000, 1);
    },
    { time: 3_000, warmupIterations: 2 },
  );

  bench(
    `KV: ${KV_BATCH} $RAFT.KV.PUT requests of 256 B, ${KV_OUTSTANDING} outstanding (one node)`,
    async () => {
      let started = 0;
      const worker = async (): Promise<void> => {
        while (started < KV_BATCH) {
          started++;
          const m = await nc.request(`$RAFT.KV.PUT.k${n++ % 10_000}`, value, { timeout: 10_000 });
          if (m.headers?.hasError === true) throw new Error(`put failed: ${m.string()}`);
        }
      };
      await Promise.all(Array.from({ length: KV_OUTSTANDING }, worker));
    },
    { time: 5_000, warmupIterations: 1 },
  );
});
