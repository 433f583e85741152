/**
 * The `Fabric` port: subject-addressed publish/subscribe between servers, as NATS carries NRG
 * traffic (nats-raft-spec §3, §6). The Raft shell talks to other servers only through this port, so
 * the same shell runs over the in-memory network (tests, simulator) and over TCP routes.
 */

/** One message as a subscriber sees it. */
export interface FabricMessage {
  /** The concrete subject the message was published to (never contains wildcards). */
  readonly subject: string;
  /** The reply subject given by the publisher, or `undefined` when there is none. */
  readonly reply?: string;
  /**
   * The payload. The fabric never mutates or reuses it after delivery, so a handler may keep it;
   * it may be shared with other handlers of the same message, so treat it as read-only.
   */
  readonly data: Uint8Array;
}

/** A subscription handler. It runs synchronously on the fabric's delivery path, so it should only
 * enqueue work. A thrown error is caught, counted in `handlerErrors` and logged; it never reaches
 * the transport. */
export type FabricHandler = (msg: FabricMessage) => void;

/** A live subscription. */
export interface Subscription {
  /** The subject or pattern this subscription was created with. */
  readonly subject: string;
  /** Stops delivery to this handler. Idempotent. Withdraws interest from peers when it was the last
   * local subscription for this subject. */
  unsubscribe(): void;
}

/** What `publish` did with one message. */
export interface PublishResult {
  /** How many remote servers the message was handed to (copied into their outbound queue). */
  readonly sent: number;
  /**
   * How many interested remote servers did not get it because their outbound buffer was full
   * (backpressure). The caller may retry later; Raft simply retransmits.
   */
  readonly dropped: number;
}

/** Counters for monitoring (/varz). All values are totals since the fabric was created, except
 * `connections`, which is the number of live peer connections now. */
export interface FabricMetrics {
  /** Messages received from peers (before local fan-out). */
  readonly messagesIn: number;
  /** Payload bytes received from peers. */
  readonly bytesIn: number;
  /** Message copies handed to peers (one per interested peer). */
  readonly messagesOut: number;
  /** Payload bytes handed to peers. */
  readonly bytesOut: number;
  /** Message copies not sent because a peer's outbound buffer was full. */
  readonly messagesDropped: number;
  /** Local handler invocations. */
  readonly deliveries: number;
  /** Handlers that threw. */
  readonly handlerErrors: number;
  /** Peer connections established (after handshake), including re-establishments. */
  readonly connectionsOpened: number;
  /** Peer connections closed, for any reason. */
  readonly connectionsClosed: number;
  /** Connections re-established to a peer seen before. */
  readonly reconnects: number;
  /** Connections closed for a protocol violation (bad frame, oversized frame, bad handshake). */
  readonly protocolErrors: number;
  /** Live peer connections now. */
  readonly connections: number;
}

/**
 * Subject-addressed messaging between servers.
 *
 * Subjects are NATS-style: non-empty tokens separated by `.`, without whitespace. Subscriptions may
 * use `*` (exactly one token) and a final `>` (one or more tokens). A server never delivers its own
 * publishes to its own subscriptions (spec §3 "self-delivery"): only other servers receive them.
 * Delivery is at most once and unordered across servers; Raft tolerates loss and retransmits.
 */
export interface Fabric {
  /** The name of the server this fabric belongs to. */
  readonly serverName: string;
  /**
   * Sends `data` to every other server that has a subscription matching `subject`. Never blocks.
   * The fabric copies or finishes with `data` before returning, so the caller may reuse it.
   * `reply` of `""` is treated as no reply.
   *
   * @throws FabricError `INVALID_SUBJECT` (bad subject or reply), `PAYLOAD_TOO_LARGE`, `CLOSED`.
   */
  publish(subject: string, reply: string | undefined, data: Uint8Array): PublishResult;
  /**
   * Delivers messages published by other servers to `subject` (a subject or wildcard pattern).
   *
   * @throws FabricError `INVALID_SUBJECT`, `CLOSED`.
   */
  subscribe(subject: string, handler: FabricHandler): Subscription;
  /** A snapshot of the counters. */
  metrics(): FabricMetrics;
  /** Stops all delivery and releases sockets and timers. Idempotent. */
  close(): Promise<void>;
}

/**
 * A pino-shaped logger port: `logger.warn({ peer, err }, "route closed")`. Messages are short
 * lowercase events; the object carries the fields.
 */
export interface FabricLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A source of uniformly distributed floats in `[0, 1)`. Inject a seeded one for determinism. */
export type RandomFloat = () => number;
