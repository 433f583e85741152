import { afterAll, bench, describe } from "vitest";
import { createMemoryNetwork } from "../src/fabric/memory-network";
import { createRouteFabric } from "../src/fabric/route-fabric";

const BATCH = 10_000;
const payload = new Uint8Array(256).fill(7);

const sender = await createRouteFabric({ serverName: "s", listen: { host: "127.0.0.1", port: 0 } });
const receiver = await createRouteFabric({
  serverName: "r",
  listen: { host: "127.0.0.1", port: 0 },
  peers: [{ name: "s", ...sender.address() }],
});
let received = 0;
let wake: (() => void) | undefined;
receiver.subscribe("$NRG.AE.bench", () => {
  received++;
  if (received === BATCH) wake?.();
});
await waitUntil(() => sender.routes()[0]?.interest === 1);

afterAll(async () => {
  await Promise.all([sender.close(), receiver.close()]);
});

function waitUntil(condition: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const poll = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error("route did not come up"));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe("fabric", () => {
  bench(`route: ${BATCH} × 256 B publish → delivery over one loopback route`, async () => {
    received = 0;
    const done = new Promise<void>((resolve) => {
      wake = resolve;
    });
    for (let i = 0; i < BATCH; i++) {
      const result = sender.publish("$NRG.AE.bench", "$NRG.R.benchrep", payload);
      if (result.sent !== 1) throw new Error("message dropped: raise maxPendingBytes");
    }
    await done;
  });

  const network = createMemoryNetwork();
  const a = network.createFabric("a");
  const b = network.createFabric("b");
  let memoryReceived = 0;
  b.subscribe("$NRG.AE.bench", () => {
    memoryReceived++;
  });
  bench(`memory: ${BATCH} × 256 B publish → flush`, () => {
    memoryReceived = 0;
    for (let i = 0; i < BATCH; i++) a.publish("$NRG.AE.bench", "$NRG.R.benchrep", payload);
    network.flush();
    if (memoryReceived !== BATCH) throw new Error("lost messages");
  });
});
