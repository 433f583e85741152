import { decodeBridgeFrame, encodeBridgeFrame } from "./bridge-frame";
import type { NatsLogger } from "./client-listener";
import type { NatsMessage } from "./subscription";

/**
 * The part of the route fabric the bridge uses (`@raft/server-integration`'s `Fabric` has this
 * shape): publish to the servers with matching interest, and subscribe to register interest.
 */
export interface BridgeFabric {
  publish(
    subject: string,
    reply: string | undefined,
    data: Uint8Array,
  ): { readonly sent: number; readonly dropped: number };
  subscribe(
    subject: string,
    handler: (msg: {
      readonly subject: string;
      readonly reply?: string | undefined;
      readonly data: Uint8Array;
    }) => void,
  ): { unsubscribe(): void };
}

/** Delivers a message from another node to this node's clients, skipping `servedGroups`. */
export type RemoteDelivery = (msg: NatsMessage, servedGroups: readonly string[]) => void;

/** Options of {@link ClusterBridge}. */
export interface ClusterBridgeOptions {
  readonly fabric: BridgeFabric;
  /** This node's server name (stamped on forwarded frames). */
  readonly origin: string;
  /** Distinct subscription patterns registered with the fabric at most (the rest stay local). */
  readonly maxPatterns: number;
  /**
   * True while the routes are too busy for client traffic; forwarding then stops (messages are
   * dropped and counted) so that client messages never crowd out Raft's. Default: never.
   */
  readonly congested?: () => boolean;
  readonly logger: NatsLogger;
}

/** Counters of the bridge since it started. */
export interface ClusterBridgeStats {
  /** Client messages handed to at least one other node. */
  readonly forwarded: number;
  /** Messages received from other nodes and delivered here. */
  readonly received: number;
  /** Messages not forwarded: routes congested, the fabric refused it, or it was too large. */
  readonly dropped: number;
  /** Frames from other nodes that could not be decoded (dropped). */
  readonly malformed: number;
  /** Patterns registered with the fabric now. */
  readonly patterns: number;
  /** Subscriptions kept local because `maxPatterns` was reached. */
  readonly patternsRefused: number;
}

/** Fabric subjects of client traffic live under this token, apart from Raft's (`$NRG.…`). */
export const BRIDGE_PREFIX = "$CLIENT.";

/**
 * Forwards core NATS messages between the client listeners of the cluster's nodes over the route
 * fabric. Every distinct pattern a local client subscribes to is registered (reference-counted)
 * as fabric interest under {@link BRIDGE_PREFIX}; a client's publication is handed to exactly
 * the nodes with matching interest; a message from another node is delivered to this node's
 * clients only (never to services inside the node, and never forwarded again, so no loop can
 * form). Delivery is at most once, like core NATS: congested routes drop client messages first.
 * Queue groups: the origin node names the groups it already served, and the other nodes skip
 * those; a group with no member on the origin node gets one delivery per node that has members.
 */
export class ClusterBridge {
  readonly #options: ClusterBridgeOptions;
  readonly #patterns = new Map<string, { count: number; unsubscribe: () => void }>();
  #deliver: RemoteDelivery | undefined;
  /** Starts at a random point so that a restarted node's first frames differ from its last. */
  #sequence = Math.floor(Math.random() * 2 ** 32);
  /** The last frame delivered, to deliver a message matching several patterns only once. */
  #last: { origin: string; sequence: number } | undefined;
  #warnedPatterns = false;
  readonly #stats = { forwarded: 0, received: 0, dropped: 0, malformed: 0, patternsRefused: 0 };

  /** A bridge with no interest registered yet; the listener attaches itself. */
  constructor(options: ClusterBridgeOptions) {
    this.#options = options;
  }

  /** Sets where messages from other nodes go (the listener calls this once). */
  attach(deliver: RemoteDelivery): void {
    this.#deliver = deliver;
  }

  /** A local client subscribed to `pattern`. */
  interestAdded(pattern: string): void {
    const entry = this.#patterns.get(pattern);
    if (entry !== undefined) {
      entry.count++;
      return;
    }
    if (this.#patterns.size >= this.#options.maxPatterns) {
      this.#stats.patternsRefused++;
      if (!this.#warnedPatterns) {
        this.#warnedPatterns = true;
        this.#options.logger.warn(
          { maxPatterns: this.#options.maxPatterns },
          "too many distinct subscription patterns: new ones only see messages from this node",
        );
      }
      return;
    }
    try {
      const sub = this.#options.fabric.subscribe(`${BRIDGE_PREFIX}${pattern}`, (m) =>
        this.#onRemote(m.subject, m.reply, m.data),
      );
      this.#patterns.set(pattern, { count: 1, unsubscribe: () => sub.unsubscribe() });
    } catch (err) {
      // The fabric rejects the pattern (or is closing): the subscription stays local.
      this.#stats.patternsRefused++;
      this.#options.logger.debug({ err, pattern }, "pattern not registered with the fabric");
    }
  }

  /** A local client's subscription to `pattern` ended. */
  interestRemoved(pattern: string): void {
    const entry = this.#patterns.get(pattern);
    if (entry === undefined) return;
    entry.count--;
    if (entry.count > 0) return;
    this.#patterns.delete(pattern);
    entry.unsubscribe();
  }

  /**
   * Hands `msg` to every other node with matching interest. Returns how many nodes may deliver it
   * (for no-responders): the nodes it was handed to, plus 1 when it was dropped because the
   * routes were congested (interest unknown, so the requester should time out rather than be
   * told nobody listens).
   */
  forward(msg: NatsMessage, servedGroups: readonly string[]): number {
    if (this.#options.congested?.() === true) {
      this.#stats.dropped++;
      return 1;
    }
    try {
      this.#sequence = (this.#sequence + 1) >>> 0;
      const data = encodeBridgeFrame({
        origin: this.#options.origin,
        sequence: this.#sequence,
        servedGroups,
        headers: msg.headers,
        payload: msg.payload,
      });
      const r = this.#options.fabric.publish(`${BRIDGE_PREFIX}${msg.subject}`, msg.reply, data);
      if (r.sent > 0) this.#stats.forwarded++;
      if (r.dropped > 0) this.#stats.dropped++;
      return r.sent + r.dropped;
    } catch {
      // Too large for a route frame, a subject the fabric refuses, or the fabric is closing.
      this.#stats.dropped++;
      return 0;
    }
  }

  /** A snapshot of the counters. */
  stats(): ClusterBridgeStats {
    return { ...this.#stats, patterns: this.#patterns.size };
  }

  /** Withdraws all interest. Idempotent. */
  close(): void {
    for (const entry of this.#patterns.values()) entry.unsubscribe();
    this.#patterns.clear();
    this.#deliver = undefined;
  }

  #onRemote(subject: string, reply: string | undefined, data: Uint8Array): void {
    let frame: ReturnType<typeof decodeBridgeFrame>;
    try {
      frame = decodeBridgeFrame(data);
    } catch (err) {
      this.#stats.malformed++;
      this.#options.logger.debug({ err, subject }, "dropped a malformed forwarded message");
      return;
    }
    // The fabric calls one handler per matching pattern: deliver each message once.
    if (this.#last?.origin === frame.origin && this.#last.sequence === frame.sequence) return;
    this.#last = { origin: frame.origin, sequence: frame.sequence };
    if (!subject.startsWith(BRIDGE_PREFIX) || this.#deliver === undefined) return;
    this.#stats.received++;
    try {
      this.#deliver(
        {
          subject: subject.slice(BRIDGE_PREFIX.length),
          reply: reply === "" ? undefined : reply,
          headers: frame.headers,
          payload: frame.payload,
        },
        frame.servedGroups,
      );
    } catch (err) {
      // A bug of ours must not reach the route (and Raft's traffic on it).
      this.#options.logger.error({ err, subject }, "delivering a forwarded message failed");
    }
  }
}
