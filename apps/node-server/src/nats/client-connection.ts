import type { Socket } from "node:net";
import type { ConnectOptions } from "./connect-options";
import { DEFAULT_CONNECT_OPTIONS, parseConnectOptions } from "./connect-options";
import { encodeHeaders } from "./headers";
import { errText, NatsError } from "./nats-error";
import type { ClientOp, ParserLimits } from "./protocol-parser";
import { ProtocolParser } from "./protocol-parser";
import { isValidPublishSubject, isValidSubscribeSubject, subjectMatches } from "./subject";
import type { NatsMessage, Subscription, SubscriptionOwner } from "./subscription";

/** Per-connection bounds. */
export interface ConnectionLimits extends ParserLimits {
  /** Bytes queued for the client (not yet taken by the kernel) above which it is a slow consumer. */
  readonly maxPendingBytes: number;
  /** Subscriptions one connection may hold at once. */
  readonly maxSubscriptions: number;
  /** Server PINGs without a PONG after which the connection is stale. */
  readonly maxPingsOut: number;
}

/** Why a connection ended. */
export type CloseReason =
  | "client closed"
  | "protocol error"
  | "slow consumer"
  | "stale connection"
  | "server shutdown"
  | "too many connections"
  | "internal error";

/** What a connection needs from the listener that owns it. */
export interface ConnectionHost {
  /** Adds a subscription to the shared index. */
  addSubscription(sub: Subscription): void;
  /** Removes a subscription from the shared index. */
  removeSubscription(sub: Subscription): void;
  /** Routes a message published by `origin`; returns how many subscriptions received it. */
  publish(msg: NatsMessage, origin: ClientConnection): number;
  /** Called once when the connection is gone. */
  closed(conn: ClientConnection, reason: CloseReason, error: NatsError | undefined): void;
  /** Reports a failure of the listener's own code while serving this connection (a bug). */
  failed(conn: ClientConnection, error: unknown): void;
}

const CRLF = "\r\n";
const PING = Buffer.from(`PING${CRLF}`);
const PONG = Buffer.from(`PONG${CRLF}`);
const OK = Buffer.from(`+OK${CRLF}`);
/** How long a connection closed after an `-ERR` may take to read it before it is destroyed. */
const CLOSE_GRACE_MS = 2_000;

/**
 * One client connection: parses what the client sends, keeps its subscriptions, and writes
 * messages to it. Every protocol error is answered with `-ERR`; the fatal ones (parse errors,
 * bad `CONNECT`, stale connection) then close the connection, the others (invalid subject,
 * too many subscriptions) keep it. Output is bounded: when more than `maxPendingBytes` wait for
 * the kernel, the client is a slow consumer and is disconnected at once.
 */
export class ClientConnection implements SubscriptionOwner {
  readonly clientId: number;
  readonly #socket: Socket;
  readonly #limits: ConnectionLimits;
  readonly #host: ConnectionHost;
  readonly #parser: ProtocolParser;
  readonly #subs = new Map<string, Subscription>();
  #options: ConnectOptions = DEFAULT_CONNECT_OPTIONS;
  #pingsOut = 0;
  #closing = false;
  #corked = false;
  #reason: CloseReason = "client closed";
  #error: NatsError | undefined;

  /**
   * Takes ownership of `socket` and writes `info` (the `INFO` line) to it at once.
   */
  constructor(options: {
    readonly clientId: number;
    readonly socket: Socket;
    readonly limits: ConnectionLimits;
    readonly host: ConnectionHost;
    readonly info: Uint8Array;
  }) {
    this.clientId = options.clientId;
    this.#socket = options.socket;
    this.#limits = options.limits;
    this.#host = options.host;
    this.#parser = new ProtocolParser(options.limits);
    this.#socket.setNoDelay(true);
    this.#socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    // A reset or a write after the peer left: the close event below does the cleanup.
    this.#socket.on("error", () => {});
    this.#socket.once("close", () => this.#teardown());
    this.#write(options.info);
  }

  /** The options of the last `CONNECT` (defaults before one arrives). */
  get options(): ConnectOptions {
    return this.#options;
  }

  /** Whether this client wants its own publications (the `echo` option). */
  get echo(): boolean {
    return this.#options.echo;
  }

  /** Number of live subscriptions. */
  get subscriptionCount(): number {
    return this.#subs.size;
  }

  /** Writes `msg` as `MSG`/`HMSG` for `sub`; honours auto-unsubscribe and the output bound. */
  deliver(sub: Subscription, msg: NatsMessage): void {
    if (this.#closing) return;
    const withHeaders = msg.headers !== undefined && this.#options.headers;
    const reply = msg.reply === undefined ? "" : ` ${msg.reply}`;
    const size = msg.payload.length;
    let line: string;
    let headerBytes = 0;
    if (withHeaders) {
      headerBytes = (msg.headers as Uint8Array).length;
      line = `HMSG ${msg.subject} ${sub.sid}${reply} ${headerBytes} ${headerBytes + size}${CRLF}`;
    } else {
      line = `MSG ${msg.subject} ${sub.sid}${reply} ${size}${CRLF}`;
    }
    const out = Buffer.allocUnsafe(line.length + headerBytes + size + 2);
    let at = out.write(line, 0, "latin1");
    if (withHeaders) {
      out.set(msg.headers as Uint8Array, at);
      at += headerBytes;
    }
    out.set(msg.payload, at);
    at += size;
    out[at] = 0x0d;
    out[at + 1] = 0x0a;
    sub.delivered++;
    if (sub.max !== undefined && sub.delivered >= sub.max) this.#unsubscribe(sub);
    this.#write(out);
  }

  /**
   * Sends a server PING, or closes the connection as stale when `maxPingsOut` PINGs are already
   * unanswered. Called by the listener every `pingIntervalMs`.
   */
  ping(): void {
    if (this.#closing) return;
    if (this.#pingsOut >= this.#limits.maxPingsOut) {
      this.#fatal("Stale Connection", "stale connection", undefined);
      return;
    }
    this.#pingsOut++;
    this.#write(PING);
  }

  /** Closes the connection (after an `-ERR` with `text`, when given). Idempotent. */
  close(reason: CloseReason, text?: string): void {
    if (text !== undefined) {
      this.#fatal(text, reason, undefined);
      return;
    }
    if (this.#closing) return;
    this.#closing = true;
    this.#reason = reason;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    try {
      this.#consume(chunk);
    } catch (error) {
      // Our bug, not the client's: it must cost this connection at most, never the node.
      this.#host.failed(this, error);
      this.close("internal error");
    }
  }

  #consume(chunk: Buffer): void {
    if (this.#closing) return;
    const step = this.#parser.feed(chunk);
    for (const op of step.ops) {
      if (this.#closing) return;
      this.#handle(op);
    }
    if (step.error !== undefined && !this.#closing) {
      this.#fatal(errText(step.error), "protocol error", step.error);
    }
  }

  #handle(op: ClientOp): void {
    switch (op.kind) {
      case "connect":
        try {
          this.#options = parseConnectOptions(op.json);
        } catch (error) {
          const e = error as NatsError;
          this.#fatal(errText(e), "protocol error", e);
          return;
        }
        this.#ok();
        return;
      case "ping":
        this.#write(PONG);
        return;
      case "pong":
        this.#pingsOut = 0;
        return;
      case "pub":
        this.#publish(op);
        return;
      case "sub":
        this.#subscribe(op.subject, op.queue, op.sid);
        return;
      case "unsub": {
        const sub = this.#subs.get(op.sid);
        if (sub !== undefined) {
          if (op.max !== undefined && op.max > sub.delivered) sub.max = op.max;
          else this.#unsubscribe(sub);
        }
        this.#ok();
        return;
      }
      default: {
        const never: never = op;
        void never;
      }
    }
  }

  #publish(op: Extract<ClientOp, { kind: "pub" }>): void {
    if (op.headers !== undefined && !this.#options.headers) {
      // nats-server closes a client that sends HPUB without announcing headers in CONNECT.
      const e = new NatsError("BAD_HEADERS", "HPUB needs headers: true in CONNECT");
      this.#fatal(errText(e), "protocol error", e);
      return;
    }
    if (
      !isValidPublishSubject(op.subject) ||
      (op.reply !== undefined && !isValidPublishSubject(op.reply))
    ) {
      this.#err("Invalid Publish Subject");
      return;
    }
    const msg: NatsMessage = {
      subject: op.subject,
      reply: op.reply,
      headers: op.headers,
      payload: op.payload,
    };
    // `+OK` comes before the deliveries it causes (also the publisher's own echo), as in nats-server.
    this.#ok();
    const receivers = this.#host.publish(msg, this);
    if (receivers === 0 && op.reply !== undefined && this.#options.noResponders) {
      this.#noResponders(op.reply);
    }
  }

  /** Answers a request nobody listens to with a `503` status on its reply subject. */
  #noResponders(reply: string): void {
    const status: NatsMessage = {
      subject: reply,
      reply: undefined,
      headers: encodeHeaders({ status: 503 }),
      payload: new Uint8Array(0),
    };
    for (const sub of this.#subs.values()) {
      if (sub.owner === this && subjectMatches(sub.subject, reply)) {
        this.deliver(sub, status);
        return;
      }
    }
  }

  #subscribe(subject: string, queue: string | undefined, sid: string): void {
    if (!isValidSubscribeSubject(subject) || (queue !== undefined && !isValidQueue(queue))) {
      this.#err("Invalid Subject");
      return;
    }
    if (this.#subs.has(sid)) {
      // The same sid again: nats-server keeps the first subscription.
      this.#ok();
      return;
    }
    if (this.#subs.size >= this.#limits.maxSubscriptions) {
      this.#err("Maximum Subscriptions Exceeded");
      return;
    }
    const sub: Subscription = { subject, queue, sid, owner: this, delivered: 0, max: undefined };
    this.#subs.set(sid, sub);
    this.#host.addSubscription(sub);
    this.#ok();
  }

  #unsubscribe(sub: Subscription): void {
    if (this.#subs.get(sub.sid) !== sub) return;
    this.#subs.delete(sub.sid);
    this.#host.removeSubscription(sub);
  }

  #ok(): void {
    if (this.#options.verbose) this.#write(OK);
  }

  #err(text: string): void {
    this.#write(Buffer.from(`-ERR '${text}'${CRLF}`, "latin1"));
  }

  /** Sends `-ERR`, stops reading, and closes once the client had a moment to read it. */
  #fatal(text: string, reason: CloseReason, error: NatsError | undefined): void {
    if (this.#closing) return;
    this.#err(text);
    this.#closing = true;
    this.#reason = reason;
    this.#error = error;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  #write(bytes: Uint8Array): void {
    if (this.#socket.destroyed) return;
    if (!this.#corked) {
      // Everything written in this tick leaves in one writev.
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(bytes);
    if (this.#socket.writableLength > this.#limits.maxPendingBytes && !this.#closing) {
      // The client does not read fast enough: drop it rather than buffer without bound.
      this.#closing = true;
      this.#reason = "slow consumer";
      this.#socket.destroy();
    }
  }

  #teardown(): void {
    this.#closing = true;
    for (const sub of this.#subs.values()) this.#host.removeSubscription(sub);
    this.#subs.clear();
    this.#host.closed(this, this.#reason, this.#error);
  }
}

/**
 * Queue group names: at most 256 characters. nats-server 2.9 accepts any token here (even `*` or
 * `>`, which are only names in this position), so only the length is bounded.
 */
function isValidQueue(queue: string): boolean {
  return queue.length <= 256;
}
