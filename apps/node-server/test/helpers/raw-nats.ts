import type { Socket } from "node:net";
import { connect } from "node:net";
import type { RouteFabric } from "@raft/server-integration";
import { createRouteFabric } from "@raft/server-integration";
import type { ClientLimits, ClientListener, NatsLogger } from "../../src/nats/client-listener";
import { startClientListener } from "../../src/nats/client-listener";
import { ClusterBridge } from "../../src/nats/cluster-bridge";
import { waitFor } from "./process-cluster";

/** Limits for tests: the production defaults, scaled down where a test needs to reach them. */
export const TEST_LIMITS: ClientLimits = {
  maxPayload: 1024 * 1024,
  maxControlLine: 4096,
  maxPendingBytes: 64 * 1024 * 1024,
  maxSubscriptions: 1000,
  maxConnections: 100,
  pingIntervalMs: 120_000,
  maxPingsOut: 2,
};

/** A logger that keeps what it is given, for assertions. */
export function memoryLogger(): NatsLogger & {
  readonly lines: { level: string; msg: string; obj: object }[];
} {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg: string): void => {
      lines.push({ level, msg, obj });
    };
  return { lines, error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

/** A listener on an ephemeral 127.0.0.1 port with `limits` over {@link TEST_LIMITS}. */
export function startTestListener(limits: Partial<ClientLimits> = {}): Promise<ClientListener> {
  return startClientListener({
    host: "127.0.0.1",
    port: 0,
    serverId: "TESTNODE",
    serverName: "test",
    version: "0.1.0",
    limits: { ...TEST_LIMITS, ...limits },
    logger: memoryLogger(),
  });
}

/** A listener with a cluster bridge over its own real route fabric, as one node has them. */
export interface BridgedListener {
  readonly fabric: RouteFabric;
  readonly bridge: ClusterBridge;
  readonly listener: ClientListener;
}

/**
 * A listener named `name` on an ephemeral 127.0.0.1 port, bridged over a route fabric that listens
 * on another ephemeral port (connect two with `a.fabric.addPeer(...)`). The caller closes all three.
 */
export async function startBridgedListener(
  name: string,
  clusterName: string,
): Promise<BridgedListener> {
  const fabric = await createRouteFabric({
    serverName: name,
    clusterName,
    listen: { host: "127.0.0.1", port: 0 },
  });
  const bridge = new ClusterBridge({
    fabric,
    origin: name,
    maxPatterns: 100,
    logger: memoryLogger(),
  });
  const listener = await startClientListener({
    host: "127.0.0.1",
    port: 0,
    serverId: name,
    serverName: name,
    version: "0.1.0",
    limits: TEST_LIMITS,
    logger: memoryLogger(),
    bridge,
  });
  return { fabric, bridge, listener };
}

/** A NATS client written by hand on a raw socket: sends bytes, collects what comes back. */
export class RawClient {
  readonly socket: Socket;
  text = "";
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.text += chunk;
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
    });
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    });
    const c = new RawClient(socket);
    await c.waitForText("INFO ");
    return c;
  }

  send(text: string | Uint8Array): void {
    this.socket.write(typeof text === "string" ? Buffer.from(text, "latin1") : text);
  }

  /** Waits until the received text contains `needle` (5 s at most). */
  waitForText(needle: string, timeoutMs = 5_000): Promise<true> {
    return waitFor(
      `${JSON.stringify(needle)} from the server (got ${JSON.stringify(this.text.slice(-300))})`,
      () => (this.text.includes(needle) ? true : undefined),
      timeoutMs,
      10,
    );
  }

  /** Waits until the received text contains `needle` at least `count` times (5 s at most). */
  waitForCount(needle: string, count: number, timeoutMs = 5_000): Promise<true> {
    return waitFor(
      `${count}× ${JSON.stringify(needle)} from the server (got ${JSON.stringify(this.text.slice(-300))})`,
      () => (this.text.split(needle).length - 1 >= count ? true : undefined),
      timeoutMs,
      10,
    );
  }

  /** Waits until the server closed the connection (5 s at most). */
  waitForClose(timeoutMs = 5_000): Promise<true> {
    return waitFor(
      "the server to close the connection",
      () => (this.closed ? true : undefined),
      timeoutMs,
      10,
    );
  }

  destroy(): void {
    this.socket.destroy();
  }
}
