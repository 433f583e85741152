import type { Server, Socket } from "node:net";
import { createServer } from "node:net";
import type { Endpoint } from "../config";
import { formatEndpoint } from "../config";
import type { CloseReason, ConnectionHost, ConnectionLimits } from "./client-connection";
import { ClientConnection } from "./client-connection";
import type { ClusterBridge, ClusterBridgeStats } from "./cluster-bridge";
import type { NatsError } from "./nats-error";
import { isValidPublishSubject, isValidSubscribeSubject } from "./subject";
import { Sublist } from "./sublist";
import type { NatsMessage, Subscription, SubscriptionOwner } from "./subscription";

/** Bounds of the listener and of each connection. */
export interface ClientLimits extends ConnectionLimits {
  /** Connections accepted at once; one more gets `-ERR` and is closed. */
  readonly maxConnections: number;
  /** Interval of server PINGs to every client (stale-connection detection). */
  readonly pingIntervalMs: number;
}

/** The logger port of the listener (pino's shape). */
export interface NatsLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** Options of {@link startClientListener}. */
export interface ClientListenerOptions {
  readonly host: string;
  /** 0 = any free port (see {@link ClientListener.address}). */
  readonly port: number;
  /** `server_id` in `INFO`. */
  readonly serverId: string;
  /** `server_name` in `INFO`. */
  readonly serverName: string;
  /** `version` in `INFO`. */
  readonly version: string;
  readonly limits: ClientLimits;
  readonly logger: NatsLogger;
  /**
   * Forwards client messages to and from the other nodes; without it, pub/sub is local to this
   * listener.
   */
  readonly bridge?: ClusterBridge;
}

/** Counters since the listener started. */
export interface ClientListenerStats {
  readonly connections: number;
  readonly totalConnections: number;
  readonly subscriptions: number;
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
  readonly slowConsumers: number;
  readonly staleConnections: number;
  readonly protocolErrors: number;
  readonly rejectedConnections: number;
  /** Forwarding between nodes; `undefined` without a bridge. */
  readonly bridge: ClusterBridgeStats | undefined;
}

/** A service inside the node: gets the messages of an internal subscription. */
export type InternalHandler = (msg: NatsMessage) => void | Promise<void>;

/** A running NATS client-protocol listener. */
export interface ClientListener {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: Endpoint;
  /**
   * Subscribes a service inside the node to `subject` (optionally in a queue group). The handler
   * runs for every matching message; a throw or rejection is logged and never reaches a client.
   * Returns the unsubscribe function.
   *
   * @throws Error when `subject` is not a valid subscribe subject.
   */
  subscribe(subject: string, handler: InternalHandler, queue?: string): () => void;
  /**
   * Publishes a message from inside the node (e.g. a service's reply) to every matching
   * subscription (and, with a bridge, to the other nodes); returns how many received it. Invalid
   * subjects are dropped (returns 0).
   */
  publish(msg: NatsMessage): number;
  /** A snapshot of the counters (and of the bridge's, when there is one). */
  stats(): ClientListenerStats;
  /** Stops accepting, closes every connection and waits for the server to close. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens a TCP listener speaking the NATS client protocol (see the README's "NATS client protocol"
 * section for the supported subset). Messages are routed between the clients of this listener and
 * the services registered with {@link ClientListener.subscribe}, and, with `bridge`, to and from
 * the clients of the other nodes. Every client gets `INFO` first; bad input closes only the
 * offending connection.
 *
 * @throws Error when the address cannot be bound (message names the address and the reason).
 */
export async function startClientListener(options: ClientListenerOptions): Promise<ClientListener> {
  const { limits, logger } = options;
  const sublist = new Sublist<Subscription>();
  const clients = new Set<ClientConnection>();
  let nextClientId = 1;
  const counters = {
    totalConnections: 0,
    inMsgs: 0,
    inBytes: 0,
    outMsgs: 0,
    outBytes: 0,
    slowConsumers: 0,
    staleConnections: 0,
    protocolErrors: 0,
    rejectedConnections: 0,
  };
  let bound: Endpoint = { host: options.host, port: options.port };

  /**
   * Delivers `msg` to the matching local subscriptions: every plain one, one member of each queue
   * group. `origin` (the publishing client) is skipped when it asked for no echo; `remote` marks
   * a message from another node, which reaches clients only and skips the groups already served
   * there. Returns the receivers and the names of the groups served.
   */
  const route = (
    msg: NatsMessage,
    origin: SubscriptionOwner | undefined,
    remote: readonly string[] | undefined,
  ): { receivers: number; served: string[] } => {
    const match = sublist.match(msg.subject);
    let receivers = 0;
    const served: string[] = [];
    const size = msg.payload.length + (msg.headers?.length ?? 0);
    const eligible = (s: Subscription): boolean =>
      !(s.owner === origin && !s.owner.echo) && (remote === undefined || s.owner.clientId !== 0);
    const give = (sub: Subscription): void => {
      receivers++;
      if (sub.owner.clientId !== 0) {
        counters.outMsgs++;
        counters.outBytes += size;
      }
      sub.owner.deliver(sub, msg);
    };
    for (const sub of match.plain) if (eligible(sub)) give(sub);
    for (const group of match.groups) {
      const name = group[0]?.queue;
      if (name === undefined || remote?.includes(name) === true) continue;
      const members = group.filter(eligible);
      const pick = members[Math.floor(Math.random() * members.length)];
      if (pick === undefined) continue;
      give(pick);
      served.push(name);
    }
    return { receivers, served };
  };

  /** Local delivery, then forwarding to the nodes with interest; returns all receivers. */
  const publishEverywhere = (msg: NatsMessage, origin: SubscriptionOwner | undefined): number => {
    const { receivers, served } = route(msg, origin, undefined);
    return receivers + (options.bridge?.forward(msg, served) ?? 0);
  };
  options.bridge?.attach((msg, servedGroups) => {
    if (isValidPublishSubject(msg.subject)) route(msg, undefined, servedGroups);
  });

  const host: ConnectionHost = {
    addSubscription: (sub) => {
      sublist.insert(sub);
      options.bridge?.interestAdded(sub.subject);
    },
    removeSubscription: (sub) => {
      if (sublist.remove(sub)) options.bridge?.interestRemoved(sub.subject);
    },
    publish: (msg, origin) => {
      counters.inMsgs++;
      counters.inBytes += msg.payload.length + (msg.headers?.length ?? 0);
      return publishEverywhere(msg, origin);
    },
    failed: (conn, error) => {
      logger.error({ clientId: conn.clientId, err: error }, "nats connection handler failed");
    },
    closed: (conn: ClientConnection, reason: CloseReason, error: NatsError | undefined) => {
      clients.delete(conn);
      if (reason === "slow consumer") counters.slowConsumers++;
      if (reason === "stale connection") counters.staleConnections++;
      if (reason === "protocol error") counters.protocolErrors++;
      const fields = { clientId: conn.clientId, reason, code: error?.code, err: error?.message };
      if (reason === "client closed" || reason === "server shutdown") {
        logger.debug(fields, "nats client disconnected");
      } else {
        logger.warn(fields, "nats client disconnected");
      }
    },
  };

  const infoLine = (clientId: number, socket: Socket): Uint8Array => {
    const info = {
      server_id: options.serverId,
      server_name: options.serverName,
      version: options.version,
      proto: 1,
      go: `node ${process.version}`,
      host: bound.host,
      port: bound.port,
      headers: true,
      max_payload: limits.maxPayload,
      client_id: clientId,
      client_ip: socket.remoteAddress ?? "",
    };
    return Buffer.from(`INFO ${JSON.stringify(info)}\r\n`);
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    const clientId = nextClientId++;
    counters.totalConnections++;
    const conn = new ClientConnection({
      clientId,
      socket,
      limits,
      host,
      info: infoLine(clientId, socket),
    });
    if (clients.size >= limits.maxConnections) {
      counters.rejectedConnections++;
      conn.close("too many connections", "maximum connections exceeded");
      return;
    }
    clients.add(conn);
  });
  server.on("error", (err) => logger.error({ err }, "nats listener error"));

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new Error(
          `cannot listen for NATS clients on ${formatEndpoint(bound)}: ${err.code === "EADDRINUSE" ? "address already in use" : err.message}`,
          { cause: err },
        ),
      );
    };
    server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address();
  bound = {
    host: options.host,
    port: typeof address === "object" && address !== null ? address.port : options.port,
  };

  const pinger = setInterval(() => {
    for (const c of clients) c.ping();
  }, limits.pingIntervalMs);
  pinger.unref();

  let closing: Promise<void> | undefined;
  return {
    address: bound,
    subscribe(subject: string, handler: InternalHandler, queue?: string): () => void {
      if (!isValidSubscribeSubject(subject)) {
        throw new Error(`invalid subscribe subject ${JSON.stringify(subject)}`);
      }
      const owner: SubscriptionOwner = {
        clientId: 0,
        echo: true,
        deliver: (_sub, msg) => {
          try {
            const r = handler(msg);
            if (r instanceof Promise) {
              r.catch((err: unknown) => logger.error({ err, subject }, "nats service failed"));
            }
          } catch (err) {
            logger.error({ err, subject }, "nats service failed");
          }
        },
      };
      const sub: Subscription = { subject, queue, sid: "", owner, delivered: 0, max: undefined };
      sublist.insert(sub);
      return () => {
        sublist.remove(sub);
      };
    },
    publish(msg: NatsMessage): number {
      if (!isValidPublishSubject(msg.subject)) return 0;
      return publishEverywhere(msg, undefined);
    },
    stats(): ClientListenerStats {
      return {
        connections: clients.size,
        subscriptions: sublist.size,
        ...counters,
        bridge: options.bridge?.stats(),
      };
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(pinger);
        server.close(() => resolve());
        for (const c of [...clients]) c.close("server shutdown");
      });
      return closing;
    },
  };
}
