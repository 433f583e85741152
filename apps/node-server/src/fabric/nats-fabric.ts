import type { NatsConnection, Status } from "@nats-io/transport-node";
import { connect } from "@nats-io/transport-node";
import type {
  Fabric,
  FabricHandler,
  FabricLogger,
  FabricMetrics,
  PublishResult,
  Subscription,
} from "@raft/server-integration";
import { FabricError, isValidPattern, isValidSubject } from "@raft/server-integration";

/** Options of {@link createNatsFabric}. */
export interface NatsFabricOptions {
  /** This server's name; also the NATS client connection name. */
  readonly serverName: string;
  /** NATS server URLs (`nats://host:port` or `host:port`), tried in order, at least one. */
  readonly servers: readonly string[];
  /** User name (with `pass`) for servers that require user/password authentication. */
  readonly user?: string;
  readonly pass?: string;
  /** Token for servers that require token authentication (not together with `user`). */
  readonly token?: string;
  /**
   * Prefix of every subject on the NATS side (`<prefix>.<subject>`), so that several clusters can
   * share one NATS account without seeing each other's traffic. Must be a valid concrete subject.
   * Default: none.
   */
  readonly subjectPrefix?: string;
  /** Wait between reconnect attempts (jitter of up to 100 ms is added). Default 1,000 ms. */
  readonly reconnectWaitMs?: number;
  /** Time allowed for the first connection (TCP plus handshake). Default 5,000 ms. */
  readonly connectTimeoutMs?: number;
  readonly logger: FabricLogger;
}

/** A {@link Fabric} over an external NATS server or cluster (the official NATS.js v3 client). */
export interface NatsFabric extends Fabric {
  /** Distinguishes it from the route fabric in `/varz`. */
  readonly kind: "nats";
  /** Whether the client is connected to a NATS server now. */
  isConnected(): boolean;
  /** The NATS server the client is connected to (`host:port`), or `undefined` when disconnected. */
  connectedServer(): string | undefined;
  /** The `max_payload` the NATS server announced (payloads above it are refused). */
  maxPayload(): number;
  /**
   * Resolves once the NATS server has processed everything this fabric sent so far (publishes and
   * subscriptions): a PING/PONG round trip. Rejects with the client's error if the connection is
   * lost or closed before the answer.
   *
   * @throws FabricError `CLOSED`.
   */
  flush(): Promise<void>;
}

/** Default wait between reconnect attempts. */
export const DEFAULT_NATS_RECONNECT_WAIT_MS: number = 1_000;

/** Default first-connection timeout. */
export const DEFAULT_NATS_CONNECT_TIMEOUT_MS: number = 5_000;

/** Bounded wait of `close()` for the client to drain before closing it outright. */
const DRAIN_TIMEOUT_MS = 2_000;

/**
 * Connects to NATS and returns a fabric over that connection. The connection uses `noEcho`, so
 * this server never receives its own publishes, and reconnects forever with a bounded wait
 * (`reconnectWaitMs` plus jitter). While disconnected, `publish` drops the message and counts it
 * in `messagesDropped` rather than letting the client buffer it (NATS.js v3 has no bound on its
 * reconnect buffer); Raft retransmits. Subscriptions survive reconnects (the client re-sends them).
 * Connection state changes are logged (`warn` on disconnect, `info` on reconnect).
 *
 * @throws FabricError `SOCKET_ERROR` (with the client's error as `cause`) when the first
 *   connection fails; `INVALID_SUBJECT` when `subjectPrefix` is not a valid concrete subject.
 */
export async function createNatsFabric(options: NatsFabricOptions): Promise<NatsFabric> {
  const prefix = options.subjectPrefix;
  if (prefix !== undefined && !isValidSubject(prefix)) {
    throw new FabricError("INVALID_SUBJECT", `invalid subject prefix: ${JSON.stringify(prefix)}`);
  }
  if (options.servers.length === 0) {
    throw new FabricError("SOCKET_ERROR", "no NATS servers configured");
  }
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...options.servers],
      name: options.serverName,
      noEcho: true,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? DEFAULT_NATS_RECONNECT_WAIT_MS,
      reconnectJitter: 100,
      timeout: options.connectTimeoutMs ?? DEFAULT_NATS_CONNECT_TIMEOUT_MS,
      // "Reconnect forever": by default the client gives up after two equal authentication errors
      // in a row, which would leave the node without a fabric until it is restarted.
      ignoreAuthErrorAbort: true,
      ...(options.user !== undefined ? { user: options.user, pass: options.pass ?? "" } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
    });
  } catch (error) {
    throw new FabricError(
      "SOCKET_ERROR",
      `cannot connect to NATS at ${options.servers.join(", ")}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return new NatsFabricImpl(nc, options);
}

class NatsFabricImpl implements NatsFabric {
  readonly kind = "nats" as const;
  readonly serverName: string;
  readonly #nc: NatsConnection;
  readonly #logger: FabricLogger;
  readonly #prefix: string;
  readonly #subs = new Set<{ unsubscribe(): void }>();
  #connected = true;
  #closed = false;
  #closing: Promise<void> | undefined;
  #warnedDropping = false;
  readonly #m = {
    messagesIn: 0,
    bytesIn: 0,
    messagesOut: 0,
    bytesOut: 0,
    messagesDropped: 0,
    deliveries: 0,
    handlerErrors: 0,
    connectionsOpened: 1,
    connectionsClosed: 0,
    reconnects: 0,
    protocolErrors: 0,
  };

  constructor(nc: NatsConnection, options: NatsFabricOptions) {
    this.#nc = nc;
    this.serverName = options.serverName;
    this.#logger = options.logger;
    this.#prefix = options.subjectPrefix === undefined ? "" : `${options.subjectPrefix}.`;
    this.#logger.info(
      { server: this.serverName, nats: nc.getServer(), prefix: options.subjectPrefix ?? null },
      "nats fabric connected",
    );
    void this.#watchStatus();
  }

  isConnected(): boolean {
    return this.#connected && !this.#closed;
  }

  connectedServer(): string | undefined {
    return this.isConnected() ? this.#nc.getServer() : undefined;
  }

  maxPayload(): number {
    return this.#nc.info?.max_payload ?? 0;
  }

  flush(): Promise<void> {
    this.#assertOpen();
    return this.#nc.flush();
  }

  publish(subject: string, reply: string | undefined, data: Uint8Array): PublishResult {
    this.#assertOpen();
    if (!isValidSubject(subject)) {
      throw new FabricError("INVALID_SUBJECT", `invalid subject: ${JSON.stringify(subject)}`);
    }
    const replyTo = reply === "" ? undefined : reply;
    if (replyTo !== undefined && !isValidSubject(replyTo)) {
      throw new FabricError("INVALID_SUBJECT", `invalid reply subject: ${JSON.stringify(replyTo)}`);
    }
    const max = this.maxPayload();
    if (max > 0 && data.length > max) {
      throw new FabricError(
        "PAYLOAD_TOO_LARGE",
        `payload of ${data.length} bytes exceeds the NATS server's max_payload of ${max}`,
      );
    }
    if (!this.#connected) {
      // NATS.js would queue it in an unbounded buffer until the reconnect; Raft retransmits.
      this.#m.messagesDropped++;
      if (!this.#warnedDropping) {
        this.#warnedDropping = true;
        this.#logger.warn({ server: this.serverName }, "nats disconnected: dropping publishes");
      }
      return { sent: 0, dropped: 1 };
    }
    try {
      this.#nc.publish(
        this.#prefix + subject,
        data,
        replyTo === undefined ? undefined : { reply: this.#prefix + replyTo },
      );
    } catch (error) {
      // The client refuses while it closes or after a late disconnect: a drop, like a full buffer.
      this.#m.messagesDropped++;
      this.#logger.debug({ err: error, subject }, "nats client refused a publish");
      return { sent: 0, dropped: 1 };
    }
    this.#m.messagesOut++;
    this.#m.bytesOut += data.length;
    return { sent: 1, dropped: 0 };
  }

  subscribe(subject: string, handler: FabricHandler): Subscription {
    this.#assertOpen();
    if (!isValidPattern(subject)) {
      throw new FabricError("INVALID_SUBJECT", `invalid subscription: ${JSON.stringify(subject)}`);
    }
    const prefixLength = this.#prefix.length;
    let sub: ReturnType<NatsConnection["subscribe"]>;
    try {
      sub = this.#nc.subscribe(this.#prefix + subject, {
        callback: (err, msg) => {
          if (err !== null) {
            // For example a permissions violation reported by the server for this subscription.
            this.#m.protocolErrors++;
            this.#logger.warn({ err, subject }, "nats subscription error");
            return;
          }
          if (this.#closed) return;
          this.#m.messagesIn++;
          this.#m.bytesIn += msg.data.length;
          const reply = msg.reply === undefined || msg.reply === "" ? undefined : msg.reply;
          const delivered = {
            subject: msg.subject.slice(prefixLength),
            // A reply outside the prefix (a foreign publisher) is passed on unchanged.
            ...(reply === undefined
              ? {}
              : {
                  reply:
                    prefixLength > 0 && reply.startsWith(this.#prefix)
                      ? reply.slice(prefixLength)
                      : reply,
                }),
            data: msg.data,
          };
          this.#m.deliveries++;
          try {
            handler(delivered);
          } catch (error) {
            // A handler's bug must never reach the client's read loop.
            this.#m.handlerErrors++;
            this.#logger.error({ err: error, subject: delivered.subject }, "fabric handler threw");
          }
        },
      });
    } catch (error) {
      // The client closed on its own (see the "close" status): nothing can be subscribed any more.
      throw new FabricError("CLOSED", `nats connection of ${this.serverName} is closed`, {
        cause: error,
      });
    }
    let active = true;
    const entry = {
      unsubscribe: (): void => {
        if (!active) return;
        active = false;
        this.#subs.delete(entry);
        try {
          sub.unsubscribe();
        } catch {
          // The connection is already closed: nothing left to withdraw.
        }
      },
    };
    this.#subs.add(entry);
    return { subject, unsubscribe: entry.unsubscribe };
  }

  metrics(): FabricMetrics {
    return { ...this.#m, connections: this.isConnected() ? 1 : 0 };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      for (const s of [...this.#subs]) s.unsubscribe();
      if (this.#connected) {
        // Drain sends what is queued; bounded, because a server that stops answering never ends it.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          this.#nc.drain().catch(() => {}),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      await this.#nc.close().catch(() => {});
      await this.#nc.closed().catch(() => {});
      // The "close" status may have counted it already.
      if (this.#connected) this.#m.connectionsClosed++;
      this.#connected = false;
      this.#logger.info({ server: this.serverName }, "nats fabric closed");
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closed) throw new FabricError("CLOSED", `fabric of ${this.serverName} is closed`);
  }

  async #watchStatus(): Promise<void> {
    try {
      for await (const s of this.#nc.status()) this.#onStatus(s);
    } catch (error) {
      this.#logger.error({ err: error }, "nats status stream failed");
    }
  }

  #onStatus(s: Status): void {
    switch (s.type) {
      case "disconnect":
        if (this.#connected) this.#m.connectionsClosed++;
        this.#connected = false;
        this.#warnedDropping = false;
        if (!this.#closed) this.#logger.warn({ nats: s.server }, "nats disconnected");
        break;
      case "reconnect":
        this.#connected = true;
        this.#m.connectionsOpened++;
        this.#m.reconnects++;
        this.#logger.info({ nats: s.server, dropped: this.#m.messagesDropped }, "nats reconnected");
        break;
      case "error":
        this.#m.protocolErrors++;
        this.#logger.warn({ err: s.error }, "nats server error");
        break;
      case "staleConnection":
        this.#logger.warn({}, "nats connection stale");
        break;
      case "close":
        if (this.#connected) this.#m.connectionsClosed++;
        this.#connected = false;
        if (!this.#closed) {
          // Only `close()` should end the connection; publishes are dropped from now on.
          this.#logger.error({}, "nats connection closed by the client: the fabric is down");
        }
        break;
      default:
        break;
    }
  }
}
