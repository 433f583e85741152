import type { Socket } from "node:net";
import { connect } from "node:net";
import type { RouteFabric, RouteFabricOptions, RoutePeer } from "../../src/fabric/route-fabric";
import { createRouteFabric } from "../../src/fabric/route-fabric";
import type { RouteFrame } from "../../src/fabric/route-frames";
import { encodeRouteFrame, RouteFrameReader, RouteOp } from "../../src/fabric/route-frames";
import type { RouteLimits } from "../../src/fabric/route-limits";
import type { LogRecord } from "./helpers";
import { createCapturingLogger } from "./helpers";

/** Fast timings so that failure paths finish in milliseconds. */
export const FAST_LIMITS: Partial<RouteLimits> = {
  handshakeTimeoutMs: 1_000,
  pingIntervalMs: 200,
  maxPingsOutstanding: 3,
  reconnectBaseMs: 20,
  reconnectMaxMs: 200,
};

/** Route fabrics started by a test, closed by `closeAll`. */
export class RouteCluster {
  readonly fabrics: RouteFabric[] = [];
  readonly logs = new Map<string, LogRecord[]>();

  async start(
    serverName: string,
    peers: readonly RouteFabric[] | readonly RoutePeer[],
    extra: Partial<RouteFabricOptions> = {},
  ): Promise<RouteFabric> {
    const logger = createCapturingLogger();
    this.logs.set(serverName, logger.records);
    const fabric = await createRouteFabric({
      serverName,
      listen: { host: "127.0.0.1", port: 0 },
      peers: peers.map((p) => ("address" in p ? { name: p.serverName, ...p.address() } : p)),
      logger,
      limits: FAST_LIMITS,
      ...extra,
    });
    this.fabrics.push(fabric);
    return fabric;
  }

  log(serverName: string): LogRecord[] {
    return this.logs.get(serverName) ?? [];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.fabrics.map((f) => f.close()));
  }
}

/** A hand-driven route peer over a raw socket, for feeding a fabric good and bad bytes. */
export class RawPeer {
  readonly socket: Socket;
  readonly frames: RouteFrame[] = [];
  closed = false;
  private readonly reader = new RouteFrameReader(1 << 24);

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      try {
        this.frames.push(...this.reader.push(chunk));
      } catch {
        // The fabric only sends valid frames; a decode failure here fails the test's expectations.
        this.frames.push({ op: RouteOp.Err, message: "raw peer could not decode" });
      }
    });
    socket.on("close", () => {
      this.closed = true;
    });
    socket.on("error", () => {});
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawPeer(socket);
  }

  /** Wraps a socket accepted by a fake listener. */
  static wrap(socket: Socket): RawPeer {
    return new RawPeer(socket);
  }

  send(frame: RouteFrame): void {
    this.socket.write(encodeRouteFrame(frame));
  }

  hello(serverName: string, clusterName = "raft"): void {
    this.send({ op: RouteOp.Hello, version: 1, serverName, clusterName });
  }

  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
