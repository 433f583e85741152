import { afterEach, describe, expect, it } from "vitest";
import { FabricError } from "../../src/fabric/fabric-error";
import { RouteOp } from "../../src/fabric/route-frames";
import { waitFor } from "./helpers";
import { RawPeer, RouteCluster } from "./route-harness";

let cluster = new RouteCluster();
const raws: RawPeer[] = [];
afterEach(async () => {
  await cluster.closeAll();
  cluster = new RouteCluster();
  for (const raw of raws.splice(0)) raw.destroy();
});

const MAX_PENDING = 256 * 1024;
const limits = { maxFrameBytes: 128 * 1024, maxPendingBytes: MAX_PENDING, pingIntervalMs: 10_000 };

describe("RouteFabric slow consumer", () => {
  it("drops and counts messages beyond the outbound bound, then resumes when drained", async () => {
    const a = await cluster.start("a", [], { limits });
    const peer = await RawPeer.connect(a.address().port);
    raws.push(peer);
    peer.hello("slow");
    peer.send({ op: RouteOp.Sub, subject: "x" });
    await waitFor(() => a.routes()[0]?.interest === 1, "interest");
    peer.socket.pause();

    const payload = new Uint8Array(64 * 1024);
    let sent = 0;
    let dropped = 0;
    let maxPending = 0;
    // 40 MiB offered: well past what the kernel's loopback buffers absorb.
    for (let i = 0; i < 640; i++) {
      const result = a.publish("x", undefined, payload);
      sent += result.sent;
      dropped += result.dropped;
      maxPending = Math.max(maxPending, a.routes()[0]?.pendingBytes ?? 0);
      // Yield now and then so the socket can push what the kernel accepts.
      if (i % 32 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(dropped).toBeGreaterThan(0);
    expect(sent + dropped).toBe(640);
    expect(maxPending).toBeLessThanOrEqual(MAX_PENDING);
    expect(a.metrics()).toMatchObject({ messagesDropped: dropped, messagesOut: sent });
    expect(a.routes()[0]?.messagesDropped).toBe(dropped);
    expect(
      cluster.log("a").filter((r) => r.msg === "slow route: dropping messages").length,
    ).toBeGreaterThanOrEqual(1);
    // Dropping messages does not cost the route.
    expect(a.routes()).toHaveLength(1);

    peer.socket.resume();
    await waitFor(() => (a.routes()[0]?.pendingBytes ?? 1) === 0, "queue drains", 10_000);
    expect(a.publish("x", undefined, payload)).toEqual({ sent: 1, dropped: 0 });
  });

  it("refuses a payload that cannot fit in one frame", async () => {
    const a = await cluster.start("a", [], { limits });
    const b = await cluster.start("b", [a], { limits });
    b.subscribe("x", () => {});
    await waitFor(() => a.routes()[0]?.interest === 1, "interest");
    const codeOf = (subject: string, size: number): string | undefined => {
      try {
        a.publish(subject, undefined, new Uint8Array(size));
      } catch (err) {
        return err instanceof FabricError ? err.code : "other";
      }
      return undefined;
    };
    // length = op 1 + subject 2+1 + reply 2+0 + payload.
    expect(codeOf("x", 128 * 1024 - 6)).toBeUndefined();
    expect(codeOf("x", 128 * 1024 - 5)).toBe("PAYLOAD_TOO_LARGE");
    // Refused whether or not anyone is interested, so the error does not depend on timing.
    expect(codeOf("nobody", 128 * 1024)).toBe("PAYLOAD_TOO_LARGE");
  });
});
