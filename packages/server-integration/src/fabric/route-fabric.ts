import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";
import { FabricError } from "./fabric-error";
import { FabricCounters } from "./metrics";
import type { RouteConnectionEvents } from "./route-connection";
import { RouteConnection } from "./route-connection";
import type { RouteFrame } from "./route-frames";
import {
  encodeMsgFrame,
  encodeRouteFrame,
  msgFrameLength,
  ROUTE_PROTOCOL_VERSION,
  RouteOp,
} from "./route-frames";
import type { RouteLimits } from "./route-limits";
import { reconnectDelayMs, resolveRouteLimits } from "./route-limits";
import { assertPattern, assertSubject } from "./subject";
import { noopLogger, SubscriptionTable } from "./subscription-table";
import type {
  Fabric,
  FabricHandler,
  FabricLogger,
  FabricMetrics,
  PublishResult,
  RandomFloat,
  Subscription,
} from "./types";

/** A server to dial. `name`, when given, must match the name the peer announces. */
export interface RoutePeer {
  readonly name?: string;
  readonly host: string;
  readonly port: number;
}

/** Options of {@link createRouteFabric}. */
export interface RouteFabricOptions {
  /** This server's name, unique in the cluster; announced in HELLO. */
  readonly serverName: string;
  /** Peers must announce the same cluster name. Default `"raft"`. */
  readonly clusterName?: string;
  /** Where to accept routes. Port 0 picks an ephemeral port; see `address()`. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Servers to dial and keep dialing. Listing this server itself is harmless (detected, skipped). */
  readonly peers?: readonly RoutePeer[];
  /** Pino-shaped logger. Default: no-op. */
  readonly logger?: FabricLogger;
  /** Bounds and timings; missing fields take {@link DEFAULT_ROUTE_LIMITS}. */
  readonly limits?: Partial<RouteLimits>;
  /** Randomness for reconnect jitter. Default `Math.random`. */
  readonly random?: RandomFloat;
}

/** One live route, for monitoring. */
export interface RouteInfo {
  /** The peer's server name. */
  readonly name: string;
  /** `"outbound"` when this server dialed. */
  readonly direction: "inbound" | "outbound";
  readonly remoteAddress: string;
  /** Bytes queued for the peer now (never above `maxPendingBytes` for MSG traffic). */
  readonly pendingBytes: number;
  /** MSG frames dropped on this connection because its queue was full. */
  readonly messagesDropped: number;
  /** Subscription patterns the peer registered. */
  readonly interest: number;
}

/** The TCP route implementation of {@link Fabric}. */
export interface RouteFabric extends Fabric {
  /** The address the listener is bound to (with the real port when 0 was asked). */
  address(): { readonly host: string; readonly port: number };
  /** Starts dialing one more peer (kept dialing until `close`). */
  addPeer(peer: RoutePeer): void;
  /** Established routes, one per peer. */
  routes(): RouteInfo[];
}

/**
 * Opens the listener and starts dialing `peers`. Resolves once listening; routes come up in the
 * background and are re-established after any failure with exponential backoff and jitter.
 *
 * @throws FabricError `LISTEN_FAILED` (address in use, bad host); RangeError on bad `limits`.
 */
export async function createRouteFabric(options: RouteFabricOptions): Promise<RouteFabric> {
  const fabric = new RouteFabricImpl(options);
  await fabric.listen();
  for (const peer of options.peers ?? []) fabric.addPeer(peer);
  return fabric;
}

interface Dialer {
  readonly peer: RoutePeer;
  /** The peer's name: configured, or learned from its first HELLO. */
  name: string | undefined;
  attempt: number;
  conn: RouteConnection | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** `parked`: another connection to the same peer is up, so this dialer waits for it to go. */
  state: "connecting" | "connected" | "waiting" | "parked" | "stopped";
}

const PROTOCOL_FAILURES: ReadonlySet<string> = new Set([
  "FRAME_TOO_LARGE",
  "BAD_FRAME",
  "UNKNOWN_OP",
  "TRUNCATED_FRAME",
  "HANDSHAKE_FAILED",
  "INTEREST_LIMIT",
]);

class RouteFabricImpl implements RouteFabric, RouteConnectionEvents {
  readonly serverName: string;
  private readonly clusterName: string;
  private readonly limits: RouteLimits;
  private readonly logger: FabricLogger;
  private readonly random: RandomFloat;
  private readonly listenAt: { readonly host: string; readonly port: number };
  private readonly counters = new FabricCounters();
  private readonly table: SubscriptionTable;
  private readonly server: Server;
  private readonly hello: Uint8Array;
  private readonly connections = new Set<RouteConnection>();
  private readonly active = new Map<string, RouteConnection>();
  private readonly dialers: Dialer[] = [];
  private readonly dialerOf = new Map<RouteConnection, Dialer>();
  private readonly everConnected = new Set<string>();
  private closed = false;
  private bound: { host: string; port: number } | undefined;

  constructor(options: RouteFabricOptions) {
    if (options.serverName.length === 0) throw new RangeError("serverName must not be empty");
    this.serverName = options.serverName;
    this.clusterName = options.clusterName ?? "raft";
    this.limits = resolveRouteLimits(options.limits);
    this.logger = options.logger ?? noopLogger;
    this.random = options.random ?? Math.random;
    this.listenAt = options.listen;
    this.table = new SubscriptionTable(this.counters, this.logger);
    this.hello = encodeRouteFrame({
      op: RouteOp.Hello,
      version: ROUTE_PROTOCOL_VERSION,
      serverName: this.serverName,
      clusterName: this.clusterName,
    });
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(
          new FabricError(
            "LISTEN_FAILED",
            `cannot listen on ${this.describeListen()}: ${err.message}`,
            {
              cause: err,
            },
          ),
        );
      };
      this.server.once("error", onError);
      const onListening = (): void => {
        this.server.off("error", onError);
        this.server.on("error", (err) =>
          this.logger.error({ err, server: this.serverName }, "route listener error"),
        );
        const address = this.server.address();
        const port =
          typeof address === "object" && address !== null ? address.port : this.listenAt.port;
        this.bound = { host: this.listenAt.host, port };
        this.logger.info({ server: this.serverName, ...this.bound }, "route listener started");
        resolve();
      };
      try {
        this.server.listen(this.listenAt.port, this.listenAt.host, onListening);
      } catch (err) {
        // A port outside 0–65535 throws synchronously instead of emitting "error".
        onError(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  address(): { readonly host: string; readonly port: number } {
    return this.bound ?? this.listenAt;
  }

  addPeer(peer: RoutePeer): void {
    if (this.closed) throw new FabricError("CLOSED", `fabric of ${this.serverName} is closed`);
    if (
      peer.host.length === 0 ||
      !Number.isInteger(peer.port) ||
      peer.port < 1 ||
      peer.port > 65535
    ) {
      throw new RangeError(`invalid peer address ${JSON.stringify(peer.host)}:${peer.port}`);
    }
    const dialer: Dialer = {
      peer,
      name: peer.name,
      attempt: 0,
      conn: undefined,
      timer: undefined,
      state: "waiting",
    };
    this.dialers.push(dialer);
    this.dial(dialer);
  }

  routes(): RouteInfo[] {
    return [...this.active.entries()].map(([name, conn]) => ({
      name,
      direction: conn.direction,
      remoteAddress: conn.remoteAddress,
      pendingBytes: conn.pendingBytes,
      messagesDropped: conn.messagesDropped,
      interest: conn.interest.size,
    }));
  }

  publish(subject: string, reply: string | undefined, data: Uint8Array): PublishResult {
    if (this.closed) throw new FabricError("CLOSED", `fabric of ${this.serverName} is closed`);
    assertSubject(subject, "publish");
    const replyTo = reply === "" ? undefined : reply;
    if (replyTo !== undefined) assertSubject(replyTo, "reply");
    if (msgFrameLength(subject, replyTo, data.length) > this.limits.maxFrameBytes) {
      throw new FabricError(
        "PAYLOAD_TOO_LARGE",
        `message of ${data.length} bytes exceeds maxFrameBytes ${this.limits.maxFrameBytes}`,
      );
    }
    let frame: Uint8Array | undefined;
    let sent = 0;
    let dropped = 0;
    for (const conn of this.active.values()) {
      if (!conn.interest.matches(subject)) continue;
      frame ??= encodeMsgFrame(subject, replyTo, data);
      if (conn.sendMessage(frame)) {
        sent++;
        this.counters.messagesOut++;
        this.counters.bytesOut += data.length;
      } else {
        dropped++;
        this.counters.messagesDropped++;
        this.warnDropping(conn);
      }
    }
    return { sent, dropped };
  }

  subscribe(subject: string, handler: FabricHandler): Subscription {
    if (this.closed) throw new FabricError("CLOSED", `fabric of ${this.serverName} is closed`);
    assertPattern(subject);
    const { id, first } = this.table.add(subject, handler);
    if (first) this.broadcastControl({ op: RouteOp.Sub, subject });
    return {
      subject,
      unsubscribe: () => {
        const removed = this.table.remove(id);
        if (removed?.last && !this.closed) this.broadcastControl({ op: RouteOp.Unsub, subject });
      },
    };
  }

  metrics(): FabricMetrics {
    return this.counters.snapshot(this.active.size);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const dialer of this.dialers) {
      dialer.state = "stopped";
      if (dialer.timer !== undefined) clearTimeout(dialer.timer);
    }
    for (const conn of [...this.connections]) conn.close("fabric closed", undefined);
    this.table.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.logger.info({ server: this.serverName }, "route fabric closed");
  }

  // --- connection events -------------------------------------------------------------------

  onHello(conn: RouteConnection, hello: Extract<RouteFrame, { op: 1 }>): void {
    const dialer = this.dialerOf.get(conn);
    const refuse = (why: string): void =>
      conn.close(why, new FabricError("HANDSHAKE_FAILED", why), true);
    if (hello.version !== ROUTE_PROTOCOL_VERSION) {
      refuse(`protocol version ${hello.version} is not ${ROUTE_PROTOCOL_VERSION}`);
      return;
    }
    if (hello.clusterName !== this.clusterName) {
      refuse(`cluster name ${hello.clusterName} is not ${this.clusterName}`);
      return;
    }
    if (hello.serverName === this.serverName) {
      // Our own address is in the peer list: stop dialing it rather than loop forever.
      if (dialer !== undefined) dialer.state = "stopped";
      conn.close("connected to self", undefined);
      return;
    }
    if (dialer?.name !== undefined && dialer.name !== hello.serverName) {
      refuse(`expected server ${dialer.name}, peer is ${hello.serverName}`);
      return;
    }
    if (dialer !== undefined) dialer.name = hello.serverName;
    const existing = this.active.get(hello.serverName);
    if (existing !== undefined && this.preferred(existing, conn) === existing) {
      conn.close("duplicate route", undefined);
      return;
    }
    this.activate(conn, hello.serverName, dialer, existing !== undefined);
    existing?.close("duplicate route", undefined);
  }

  onMessage(conn: RouteConnection, msg: Extract<RouteFrame, { op: 4 }>): void {
    if (this.closed) return;
    this.counters.messagesIn++;
    this.counters.bytesIn += msg.data.length;
    const { subject, reply, data } = msg;
    const delivered = this.table.deliver(
      reply === undefined ? { subject, data } : { subject, reply, data },
    );
    // A route carries only what the peer asked for, so a miss here is a SUB/UNSUB race.
    if (delivered === 0) {
      this.logger.debug(
        { server: this.serverName, peer: conn.remoteName, subject },
        "message without interest",
      );
    }
  }

  onClose(conn: RouteConnection, reason: string, error: FabricError | undefined): void {
    this.connections.delete(conn);
    const name = conn.remoteName;
    const wasActive = name !== undefined && this.active.get(name) === conn;
    if (wasActive) this.active.delete(name);
    // Counted for every accepted connection, including one replaced by a preferred duplicate,
    // so that opened - closed = live connections.
    if (conn.wasAccepted) this.counters.connectionsClosed++;
    this.logClose(conn, reason, error, wasActive);
    const dialer = this.dialerOf.get(conn);
    this.dialerOf.delete(conn);
    if (dialer !== undefined) {
      dialer.conn = undefined;
      if (dialer.state !== "stopped") {
        if (!wasActive) dialer.attempt++;
        this.retry(dialer);
      }
    }
    if (wasActive && !this.closed) {
      for (const d of this.dialers) {
        if (d.state === "parked" && d.name === name) this.retry(d);
      }
    }
  }

  // --- internals ---------------------------------------------------------------------------

  private accept(socket: Socket): void {
    if (this.closed || this.connections.size >= this.limits.maxConnections) {
      this.logger.warn(
        { server: this.serverName, remote: `${socket.remoteAddress}:${socket.remotePort}` },
        this.closed ? "route refused: closing" : "route refused: too many connections",
      );
      socket.destroy();
      return;
    }
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const conn = new RouteConnection(socket, "inbound", remote, this.limits, this);
    this.connections.add(conn);
    conn.start(this.hello);
  }

  private dial(dialer: Dialer): void {
    dialer.timer = undefined;
    if (this.closed || dialer.state === "stopped") return;
    if (dialer.name !== undefined && this.active.has(dialer.name)) {
      dialer.state = "parked";
      return;
    }
    dialer.state = "connecting";
    const { host, port } = dialer.peer;
    let socket: Socket;
    try {
      socket = connect({ host, port });
    } catch (err) {
      // Addresses are validated in addPeer; this guards the timer callback all the same.
      this.logger.error({ server: this.serverName, err, host, port }, "route dial failed");
      dialer.attempt++;
      this.retry(dialer);
      return;
    }
    const conn = new RouteConnection(socket, "outbound", `${host}:${port}`, this.limits, this);
    dialer.conn = conn;
    this.dialerOf.set(conn, dialer);
    this.connections.add(conn);
    conn.start(this.hello);
  }

  private retry(dialer: Dialer): void {
    if (this.closed || dialer.state === "stopped" || dialer.timer !== undefined) return;
    if (dialer.name !== undefined && this.active.has(dialer.name)) {
      dialer.state = "parked";
      return;
    }
    const delayMs = reconnectDelayMs(dialer.attempt, this.limits, this.random);
    dialer.state = "waiting";
    this.logger.debug(
      {
        server: this.serverName,
        peer: dialer.name,
        address: `${dialer.peer.host}:${dialer.peer.port}`,
        attempt: dialer.attempt,
        delayMs,
      },
      "route redial scheduled",
    );
    dialer.timer = setTimeout(() => this.dial(dialer), delayMs);
  }

  private activate(
    conn: RouteConnection,
    name: string,
    dialer: Dialer | undefined,
    replacing: boolean,
  ): void {
    this.active.set(name, conn);
    conn.establish();
    this.counters.connectionsOpened++;
    // Swapping a duplicate for the preferred connection is not a reconnect: the peer never left.
    if (!replacing && this.everConnected.has(name)) this.counters.reconnects++;
    this.everConnected.add(name);
    if (dialer !== undefined) {
      dialer.attempt = 0;
      dialer.state = "connected";
    }
    for (const subject of this.table.patterns()) conn.sendControl({ op: RouteOp.Sub, subject });
    this.logger.info(
      {
        server: this.serverName,
        peer: name,
        direction: conn.direction,
        remote: conn.remoteAddress,
      },
      "route established",
    );
  }

  /**
   * Of two connections to the same peer, both servers keep the same one: the one dialed by the
   * lexicographically smaller server name. Between two dialed by the same server (a restart raced
   * the detection of the old socket), the newer wins.
   */
  private preferred(existing: RouteConnection, candidate: RouteConnection): RouteConnection {
    const dialedBy = (c: RouteConnection): string =>
      c.direction === "outbound" ? this.serverName : (c.remoteName ?? "");
    const a = dialedBy(existing);
    const b = dialedBy(candidate);
    if (a === b) return candidate;
    return a < b ? existing : candidate;
  }

  private broadcastControl(frame: RouteFrame): void {
    for (const conn of this.active.values()) conn.sendControl(frame);
  }

  private warnDropping(conn: RouteConnection): void {
    // Log the first drop of a run and then every 1000th, so a slow peer cannot flood the log.
    if (conn.messagesDropped % 1000 === 1) {
      this.logger.warn(
        {
          server: this.serverName,
          peer: conn.remoteName,
          dropped: conn.messagesDropped,
          pendingBytes: conn.pendingBytes,
        },
        "slow route: dropping messages",
      );
    }
  }

  private logClose(
    conn: RouteConnection,
    reason: string,
    error: FabricError | undefined,
    wasActive: boolean,
  ): void {
    const fields = {
      server: this.serverName,
      peer: conn.remoteName,
      remote: conn.remoteAddress,
      direction: conn.direction,
      reason,
      ...(error === undefined ? {} : { err: error, code: error.code }),
    };
    if (error !== undefined && PROTOCOL_FAILURES.has(error.code)) {
      this.counters.protocolErrors++;
      this.logger.error(fields, "route protocol error");
    } else if (wasActive && !this.closed) {
      this.logger.warn(fields, "route closed");
    } else {
      this.logger.debug(fields, "connection closed");
    }
  }

  private describeListen(): string {
    return `${this.listenAt.host}:${this.listenAt.port}`;
  }
}
