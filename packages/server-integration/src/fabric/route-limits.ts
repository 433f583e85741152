/** Bounds and timings of the route fabric. Every queue and wait of a route is bounded by these. */
export interface RouteLimits {
  /** Largest frame (op byte + body) accepted or sent. A publish that would exceed it throws
   * `PAYLOAD_TOO_LARGE`; a peer frame that declares more closes the connection. */
  readonly maxFrameBytes: number;
  /** Outbound bytes queued per connection beyond which MSG frames are dropped (and counted).
   * Must be at least `maxFrameBytes`. Control frames may use up to twice this; past that the
   * connection is closed as a slow consumer. */
  readonly maxPendingBytes: number;
  /** Distinct subscription patterns a peer may register on one connection. */
  readonly maxInterestPerRoute: number;
  /** Simultaneous connections (inbound and outbound, including handshaking ones). */
  readonly maxConnections: number;
  /** Time from socket creation (including TCP connect) to a valid HELLO from the peer. */
  readonly handshakeTimeoutMs: number;
  /** Interval between keepalive PINGs on an established route. */
  readonly pingIntervalMs: number;
  /** PINGs left unanswered (no frame at all received) before the route is declared stale. */
  readonly maxPingsOutstanding: number;
  /** First reconnect delay; each failed attempt doubles it, up to `reconnectMaxMs`. */
  readonly reconnectBaseMs: number;
  /** Ceiling of the reconnect delay. The actual delay is uniform in `[cap/2, cap]` (jitter). */
  readonly reconnectMaxMs: number;
}

/** Defaults suited to Raft on a LAN: 8 MiB frames, 32 MiB of queue per peer, 2 s keepalive. */
export const DEFAULT_ROUTE_LIMITS: RouteLimits = Object.freeze({
  maxFrameBytes: 8 * 1024 * 1024,
  maxPendingBytes: 32 * 1024 * 1024,
  maxInterestPerRoute: 100_000,
  maxConnections: 1024,
  handshakeTimeoutMs: 5_000,
  pingIntervalMs: 2_000,
  maxPingsOutstanding: 3,
  reconnectBaseMs: 50,
  reconnectMaxMs: 5_000,
});

/** Fills defaults and checks consistency. @throws RangeError on an inconsistent set. */
export function resolveRouteLimits(limits: Partial<RouteLimits> | undefined): RouteLimits {
  const resolved: RouteLimits = { ...DEFAULT_ROUTE_LIMITS, ...limits };
  for (const [key, value] of Object.entries(resolved)) {
    if (!(Number.isInteger(value) && value > 0)) {
      throw new RangeError(`route limit ${key} must be a positive integer, got ${value}`);
    }
  }
  if (resolved.maxPendingBytes < resolved.maxFrameBytes) {
    throw new RangeError("route limit maxPendingBytes must be at least maxFrameBytes");
  }
  if (resolved.reconnectMaxMs < resolved.reconnectBaseMs) {
    throw new RangeError("route limit reconnectMaxMs must be at least reconnectBaseMs");
  }
  return resolved;
}

/**
 * The delay before reconnect attempt number `attempt` (0-based): exponential with a ceiling, and
 * "equal jitter" so that servers that lost each other at the same moment do not redial in step.
 * Result is in `[cap/2, cap]` with `cap = min(max, base · 2^attempt)`.
 */
export function reconnectDelayMs(
  attempt: number,
  limits: Pick<RouteLimits, "reconnectBaseMs" | "reconnectMaxMs">,
  random: () => number,
): number {
  const cap = Math.min(limits.reconnectMaxMs, limits.reconnectBaseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
