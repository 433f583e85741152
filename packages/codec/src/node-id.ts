/**
 * Node ids (nats-raft-spec §2.1): the first 8 bytes of SHA-256(server name), each mapped to the
 * base-62 alphabet by `byte % 62`.
 */
import { BASE62_ALPHABET } from "./base62";
import { sha256 } from "./sha256";
import { NODE_ID_LENGTH } from "./types";
import { utf8Encode } from "./utf8";

/**
 * Derives a server's 8-character node id from its name (UTF-8), exactly as nats-server does:
 * `nats-0 → S1Nunr6R`. Total: every string has an id.
 */
export function nodeIdFromServerName(name: string): string {
  const digest = sha256(utf8Encode(name));
  let id = "";
  for (let i = 0; i < NODE_ID_LENGTH; i++) id += BASE62_ALPHABET.charAt((digest[i] as number) % 62);
  return id;
}
