import { JetStreamError } from "./jetstream-error";

/** A parsed NATS header block. */
export interface HeaderBlock {
  /** The status code of the first line (`NATS/1.0 503`), when there is one. */
  readonly status: number | undefined;
  /** The text after the status code, `""` when none. */
  readonly description: string;
  /** Values by key, in order of appearance. Keys are case-sensitive, as nats-server reads them. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
}

const PREFIX = "NATS/1.0";
const EMPTY: HeaderBlock = { status: undefined, description: "", headers: new Map() };
const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();
// A key is a run of visible ASCII characters other than `:` (RFC 7230 field names, loosely).
const KEY = /^[!-9;-~]+$/;

function bad(message: string): never {
  throw new JetStreamError("BAD_HEADERS", message);
}

function parseStatusLine(line: string): { status: number | undefined; description: string } {
  if (!line.startsWith(PREFIX)) bad("header block does not start with NATS/1.0");
  const rest = line.slice(PREFIX.length);
  if (rest.length === 0) return { status: undefined, description: "" };
  if (rest[0] !== " ") bad("header block version line is malformed");
  const match = /^ (\d{3})(?: (.*))?$/.exec(rest);
  if (match === null) bad("header block status is not a 3-digit code");
  return { status: Number(match[1]), description: (match[2] ?? "").trim() };
}

/**
 * Parses a NATS header block (`NATS/1.0[ status[ description]]\r\n(Key: value\r\n)*\r\n`).
 * An empty array means "no headers". Values are trimmed of surrounding whitespace; a key may
 * repeat. Pure; `bytes` is not modified or kept.
 *
 * @throws JetStreamError BAD_HEADERS for invalid UTF-8, a missing `NATS/1.0` line, a line that is
 *   not `Key: value`, a bare `\r` or `\n`, or a block that does not end with an empty line.
 */
export function parseHeaderBlock(bytes: Uint8Array): HeaderBlock {
  if (bytes.length === 0) return EMPTY;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (error) {
    throw new JetStreamError("BAD_HEADERS", "header block is not valid UTF-8", { cause: error });
  }
  if (!text.endsWith("\r\n\r\n")) bad("header block does not end with an empty line");
  const lines = text.slice(0, -4).split("\r\n");
  const { status, description } = parseStatusLine(lines[0] ?? "");
  const headers = new Map<string, string[]>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.includes("\r") || line.includes("\n")) bad(`header line ${i} has a bare CR or LF`);
    const colon = line.indexOf(":");
    if (colon <= 0) bad(`header line ${i} is not "Key: value"`);
    const key = line.slice(0, colon);
    if (!KEY.test(key)) bad(`header line ${i} has an invalid key`);
    const value = line.slice(colon + 1).trim();
    const values = headers.get(key);
    if (values === undefined) headers.set(key, [value]);
    else values.push(value);
  }
  return { status, description, headers };
}

/**
 * Encodes headers as a NATS header block (`NATS/1.0\r\nKey: value\r\n\r\n`); an empty record
 * gives an empty array. A new array owned by the caller.
 *
 * @throws JetStreamError BAD_HEADERS for a key that is not visible ASCII without `:`, or a value
 *   containing CR or LF.
 */
export function encodeHeaderBlock(headers: Readonly<Record<string, string>>): Uint8Array {
  const entries = Object.entries(headers);
  if (entries.length === 0) return new Uint8Array(0);
  let text = `${PREFIX}\r\n`;
  for (const [key, value] of entries) {
    if (!KEY.test(key)) bad(`invalid header key ${JSON.stringify(key)}`);
    if (/[\r\n]/.test(value)) bad(`header ${key} has a CR or LF in its value`);
    text += `${key}: ${value}\r\n`;
  }
  return encoder.encode(`${text}\r\n`);
}

/** The first value of `key` in `block`, or `undefined`. */
export function headerValue(block: HeaderBlock, key: string): string | undefined {
  return block.headers.get(key)?.[0];
}
