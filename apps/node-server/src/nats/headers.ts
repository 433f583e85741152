import { NatsError } from "./nats-error";

/** A decoded NATS header block (`NATS/1.0[ code[ description]]` then `Name: value` lines). */
export interface NatsHeaders {
  /** The status code of the first line, `undefined` when it has none. */
  readonly status: number | undefined;
  readonly description: string;
  /** Header fields in order; names as sent (compare them case-insensitively). */
  readonly fields: readonly (readonly [string, string])[];
}

/** The version line every header block starts with. */
const PREFIX = "NATS/1.0";

/**
 * Encodes a header block: the version line (with `status` and `description` when given), one
 * `Name: value` line per field, and the empty line that ends the block. Names and values must not
 * contain CR or LF (values are stripped of them to keep the block well-formed).
 */
export function encodeHeaders(headers: {
  readonly status?: number;
  readonly description?: string;
  readonly fields?: readonly (readonly [string, string])[];
}): Uint8Array {
  let text = PREFIX;
  if (headers.status !== undefined) {
    text += ` ${headers.status}`;
    if (headers.description !== undefined && headers.description !== "") {
      text += ` ${oneLine(headers.description)}`;
    }
  }
  text += "\r\n";
  for (const [name, value] of headers.fields ?? [])
    text += `${oneLine(name)}: ${oneLine(value)}\r\n`;
  text += "\r\n";
  return new TextEncoder().encode(text);
}

/**
 * Decodes a header block sent by a client.
 *
 * @throws NatsError `BAD_HEADERS` when the block does not start with `NATS/1.0`, has a status
 *   that is not a 3-digit number, or a field line without `:`.
 */
export function decodeHeaders(bytes: Uint8Array): NatsHeaders {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split("\r\n");
  const first = lines[0] ?? "";
  if (!first.startsWith(PREFIX)) {
    throw new NatsError("BAD_HEADERS", "header block does not start with NATS/1.0");
  }
  const statusText = first.slice(PREFIX.length).trim();
  let status: number | undefined;
  let description = "";
  if (statusText !== "") {
    const m = /^(\d{3})(?:\s+(.*))?$/.exec(statusText);
    if (m === null) throw new NatsError("BAD_HEADERS", "header status is not a 3-digit code");
    status = Number(m[1]);
    description = m[2] ?? "";
  }
  const fields: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new NatsError("BAD_HEADERS", "header line without a name and ':'");
    fields.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { status, description, fields };
}

/** The first value of the field `name` (case-insensitive), or `undefined`. */
export function headerValue(headers: NatsHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers.fields) if (n.toLowerCase() === lower) return v;
  return undefined;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, " ");
}
