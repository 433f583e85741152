/** Reply and catchup inbox tokens (nats-raft-spec §3). */
import { isBase62, randomBase62 } from "./base62";
import type { RandomSource } from "./types";

/** Length in characters of an inbox token. */
export const INBOX_LENGTH = 8;

/**
 * Generates an inbox token: 8 base-62 digits of a random u64 built from two
 * `random.nextUint32()` calls (high word first), least significant digit first. Deterministic for
 * a deterministic source.
 *
 * @throws CodecError BAD_NUMBER when the source returns a value outside [0, 2^32).
 */
export function newInbox(random: RandomSource): string {
  return randomBase62(random);
}

/** True when `token` is a valid inbox token: exactly 8 base-62 characters. */
export function isInbox(token: string): boolean {
  return isBase62(token, INBOX_LENGTH);
}
