import { NatsError } from "./nats-error";

/** The `CONNECT` options the listener honours (others, such as `name` or `lang`, are kept for logs). */
export interface ConnectOptions {
  /** Answer `+OK` to every accepted operation. */
  readonly verbose: boolean;
  /** Accepted and reported; subjects are always checked as strictly as pedantic mode asks. */
  readonly pedantic: boolean;
  /** Deliver this client's own publications to its matching subscriptions. */
  readonly echo: boolean;
  /** The client understands `HMSG`; without it, headers are stripped from what it receives. */
  readonly headers: boolean;
  /** Answer a request to a subject without interest with a `503` status message. */
  readonly noResponders: boolean;
  /** The client's name, when it gave one (for logs). */
  readonly name: string | undefined;
}

/**
 * Options of a client that has not sent `CONNECT` (yet). `verbose` is on until a `CONNECT` turns it
 * off, as in nats-server (which also answers `+OK` to a `CONNECT` that does not mention it).
 */
export const DEFAULT_CONNECT_OPTIONS: ConnectOptions = Object.freeze({
  verbose: true,
  pedantic: false,
  echo: true,
  headers: false,
  noResponders: false,
  name: undefined,
});

const BOOLEAN_FIELDS = ["verbose", "pedantic", "echo", "headers", "no_responders"] as const;

/**
 * Parses the JSON argument of `CONNECT`. Unknown fields are ignored (clients send many, e.g.
 * `lang`, `version`, `protocol`); known fields must have the right type.
 *
 * @throws NatsError `BAD_CONNECT` when the text is not a JSON object, a known field has the wrong
 *   type, or `no_responders` is asked for without `headers` (a 503 status needs a header block).
 */
export function parseConnectOptions(json: string): ConnectOptions {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new NatsError("BAD_CONNECT", "CONNECT options are not valid JSON", { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new NatsError("BAD_CONNECT", "CONNECT options must be a JSON object");
  }
  const o = value as Record<string, unknown>;
  for (const f of BOOLEAN_FIELDS) {
    if (o[f] !== undefined && typeof o[f] !== "boolean") {
      throw new NatsError("BAD_CONNECT", `CONNECT field ${f} must be a boolean`);
    }
  }
  const name = o["name"];
  if (name !== undefined && typeof name !== "string") {
    throw new NatsError("BAD_CONNECT", "CONNECT field name must be a string");
  }
  const headers = o["headers"] === true;
  const noResponders = o["no_responders"] === true;
  if (noResponders && !headers) {
    throw new NatsError("BAD_CONNECT", "no_responders requires headers");
  }
  return {
    // Absent means on, as in nats-server: only an explicit `false` silences `+OK`.
    verbose: o["verbose"] !== false,
    pedantic: o["pedantic"] === true,
    echo: o["echo"] !== false,
    headers,
    noResponders,
    name: typeof name === "string" ? name.slice(0, 256) : undefined,
  };
}
