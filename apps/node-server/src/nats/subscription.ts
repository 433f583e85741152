import type { SublistEntry } from "./sublist";

/** A message on its way through the listener. Buffers are owned by the listener; don't keep them. */
export interface NatsMessage {
  readonly subject: string;
  readonly reply: string | undefined;
  /** A `NATS/1.0` header block, `undefined` for a message without headers. */
  readonly headers: Uint8Array | undefined;
  readonly payload: Uint8Array;
}

/** Who receives the messages of a subscription: a client connection or a service inside the node. */
export interface SubscriptionOwner {
  /** The connection's `client_id` (0 for services inside the node). */
  readonly clientId: number;
  /** Whether the owner wants its own publications echoed back (always true for services). */
  readonly echo: boolean;
  /** Hands `msg` to the owner for `sub`; never throws. */
  deliver(sub: Subscription, msg: NatsMessage): void;
}

/** One subscription, as stored in the listener's sublist. */
export interface Subscription extends SublistEntry {
  readonly owner: SubscriptionOwner;
  /** The subscription id the client chose (unique per connection). */
  readonly sid: string;
  /** Messages delivered so far. */
  delivered: number;
  /** Auto-unsubscribe after this many deliveries (`UNSUB <sid> <max>`), or `undefined`. */
  max: number | undefined;
}
