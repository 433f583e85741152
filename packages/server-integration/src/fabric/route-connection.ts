import type { Socket } from "node:net";
import { toError } from "@raft/codec";
import { FabricError } from "./fabric-error";
import type { RouteFrame } from "./route-frames";
import { encodeRouteFrame, RouteFrameReader, RouteOp } from "./route-frames";
import type { RouteLimits } from "./route-limits";
import { InterestSet } from "./subject";

/** What a connection reports to its fabric. */
export interface RouteConnectionEvents {
  /** The peer's HELLO arrived; the fabric accepts (`establish`) or closes the connection. */
  onHello(conn: RouteConnection, hello: Extract<RouteFrame, { op: 1 }>): void;
  /** A MSG arrived on an established connection. */
  onMessage(conn: RouteConnection, msg: Extract<RouteFrame, { op: 4 }>): void;
  /** The connection closed; `error` is set unless the close was orderly. Called once. */
  onClose(conn: RouteConnection, reason: string, error: FabricError | undefined): void;
}

let nextConnectionId = 1;

/**
 * One TCP connection to a peer: framing, handshake order, keepalive, interest bookkeeping and the
 * bounded outbound queue. It never throws into socket callbacks: every failure becomes a close
 * with a typed error reported through `onClose`.
 */
export class RouteConnection {
  /** Process-unique id, for logs. */
  readonly id: number = nextConnectionId++;
  /** Who dialed: `"outbound"` when this server did. */
  readonly direction: "inbound" | "outbound";
  /** `host:port` of the other end. */
  readonly remoteAddress: string;
  /** Subjects the peer subscribed to; only matching messages are sent to it. */
  readonly interest: InterestSet = new InterestSet();
  /** The peer's server name, once its HELLO arrived. */
  remoteName: string | undefined;
  /** MSG frames dropped because the outbound queue was full. */
  messagesDropped = 0;
  private readonly socket: Socket;
  private readonly limits: RouteLimits;
  private readonly events: RouteConnectionEvents;
  private readonly reader: RouteFrameReader;
  private helloSeen = false;
  private established = false;
  private closed = false;
  private corked = false;
  private dropping = false;
  private pingsOutstanding = 0;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    socket: Socket,
    direction: "inbound" | "outbound",
    remoteAddress: string,
    limits: RouteLimits,
    events: RouteConnectionEvents,
  ) {
    this.socket = socket;
    this.direction = direction;
    this.remoteAddress = remoteAddress;
    this.limits = limits;
    this.events = events;
    this.reader = new RouteFrameReader(limits.maxFrameBytes);
  }

  /** Whether the fabric accepted the peer (handshake complete, route usable). */
  get isEstablished(): boolean {
    return this.established && !this.closed;
  }

  /** Whether the fabric ever accepted this connection (true even after it closed). */
  get wasAccepted(): boolean {
    return this.established;
  }

  /** Bytes queued for the peer and not yet handed to the kernel. */
  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  /** Sends our HELLO and starts the handshake clock. */
  start(hello: Uint8Array): void {
    this.socket.setNoDelay(true);
    this.handshakeTimer = setTimeout(() => {
      this.fail(new FabricError("HANDSHAKE_FAILED", "no valid HELLO before the handshake timeout"));
    }, this.limits.handshakeTimeoutMs);
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("end", () => this.onEnd());
    this.socket.on("error", (err) => {
      this.fail(new FabricError("SOCKET_ERROR", err.message, { cause: err }), false);
    });
    this.socket.on("close", () => this.close("socket closed", undefined));
    this.write(hello);
  }

  /** Marks the handshake complete and starts keepalive. */
  establish(): void {
    if (this.closed) return;
    this.established = true;
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.pingTimer = setInterval(() => this.keepalive(), this.limits.pingIntervalMs);
  }

  /**
   * Queues a MSG frame unless the outbound queue would pass `maxPendingBytes`; a dropped frame is
   * counted and reported as `false` so the publisher sees the backpressure.
   */
  sendMessage(frame: Uint8Array): boolean {
    if (!this.isEstablished) return false;
    if (this.socket.writableLength + frame.length > this.limits.maxPendingBytes) {
      this.messagesDropped++;
      this.dropping = true;
      return false;
    }
    this.dropping = false;
    this.write(frame);
    return true;
  }

  /** Whether the last MSG was dropped (the peer is currently a slow consumer). */
  get isDropping(): boolean {
    return this.dropping;
  }

  /**
   * Queues a control frame (SUB, UNSUB, PING, PONG). Losing one would desynchronise interest, so
   * these are never dropped; instead a peer that lets them pile up past twice the bound is cut.
   */
  sendControl(frame: RouteFrame): void {
    if (this.closed) return;
    const bytes = encodeRouteFrame(frame);
    if (this.socket.writableLength + bytes.length > 2 * this.limits.maxPendingBytes) {
      this.fail(new FabricError("SLOW_CONSUMER", "outbound queue passed twice maxPendingBytes"));
      return;
    }
    this.write(bytes);
  }

  /**
   * Closes the connection. With an error that is the peer's fault, an ERR frame tells it why (best
   * effort) before the socket goes. Idempotent; `onClose` runs once.
   */
  close(reason: string, error: FabricError | undefined, notifyPeer = false): void {
    if (this.closed) return;
    this.closed = true;
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    if (notifyPeer && !this.socket.destroyed) {
      const socket = this.socket;
      socket.end(encodeRouteFrame({ op: RouteOp.Err, message: reason }));
      // Give the ERR a moment to leave, but never hold the socket open for long.
      setTimeout(() => socket.destroy(), 200).unref();
    } else {
      this.socket.destroy();
    }
    this.events.onClose(this, reason, error);
  }

  private fail(error: FabricError, notifyPeer = true): void {
    this.close(error.message, error, notifyPeer);
  }

  private write(bytes: Uint8Array): void {
    // Cork until the end of the current tick so that a burst of small frames becomes one write.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
  }

  private keepalive(): void {
    if (this.pingsOutstanding >= this.limits.maxPingsOutstanding) {
      this.fail(new FabricError("STALE_CONNECTION", "peer did not answer keepalive pings"), false);
      return;
    }
    this.pingsOutstanding++;
    this.sendControl({ op: RouteOp.Ping });
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: RouteFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(
        err instanceof FabricError ? err : new FabricError("BAD_FRAME", toError(err).message),
      );
      return;
    }
    this.pingsOutstanding = 0;
    for (const frame of frames) {
      if (this.closed) return;
      this.onFrame(frame);
    }
  }

  private onEnd(): void {
    if (this.reader.midFrame) {
      this.fail(new FabricError("TRUNCATED_FRAME", "peer closed the connection mid-frame"), false);
    } else {
      this.close("peer closed the connection", undefined);
    }
  }

  private onFrame(frame: RouteFrame): void {
    if (!this.helloSeen) {
      if (frame.op !== RouteOp.Hello) {
        this.fail(new FabricError("HANDSHAKE_FAILED", `expected HELLO, got op ${frame.op}`));
        return;
      }
      this.helloSeen = true;
      this.remoteName = frame.serverName;
      this.events.onHello(this, frame);
      return;
    }
    // A frame between HELLO and our acceptance can only be the peer racing ahead: it announces
    // interest as soon as it accepted us, which may be before we accepted it. Keep it.
    switch (frame.op) {
      case RouteOp.Hello:
        this.fail(new FabricError("BAD_FRAME", "second HELLO on one connection"));
        return;
      case RouteOp.Sub:
        if (
          this.interest.size >= this.limits.maxInterestPerRoute &&
          !this.interest.has(frame.subject)
        ) {
          this.fail(new FabricError("INTEREST_LIMIT", "peer exceeded maxInterestPerRoute"));
          return;
        }
        this.interest.add(frame.subject);
        return;
      case RouteOp.Unsub:
        this.interest.delete(frame.subject);
        return;
      case RouteOp.Msg:
        if (this.established) this.events.onMessage(this, frame);
        return;
      case RouteOp.Ping:
        this.sendControl({ op: RouteOp.Pong });
        return;
      case RouteOp.Pong:
        return;
      case RouteOp.Err:
        this.close(`peer reported: ${frame.message}`, undefined);
        return;
    }
  }
}
