/**
 * Base-62 helpers shared by node ids, inboxes and group names. nats-server uses the alphabet
 * digits, upper case, lower case.
 */
import { CodecError } from "./errors";
import type { RandomSource } from "./types";

/** The base-62 alphabet, in nats-server's order. */
export const BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const BASE = 62n;

/** True for a character of {@link BASE62_ALPHABET}. */
export function isBase62Code(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a)
  );
}

/** True when `text` is exactly `length` base-62 characters. */
export function isBase62(text: string, length: number): boolean {
  if (typeof text !== "string" || text.length !== length) return false;
  for (let i = 0; i < length; i++) if (!isBase62Code(text.charCodeAt(i))) return false;
  return true;
}

function nextWord(random: RandomSource): number {
  const word = random.nextUint32();
  if (!Number.isInteger(word) || word < 0 || word > 0xffff_ffff) {
    throw new CodecError(
      "BAD_NUMBER",
      `RandomSource.nextUint32 must return an integer in [0, 2^32), got ${word}`,
    );
  }
  return word;
}

/**
 * Draws a u64 from two `nextUint32` calls (high word first) and writes its 8 least significant
 * base-62 digits, least significant first, as nats-server does for inboxes.
 */
export function randomBase62(random: RandomSource): string {
  const high = BigInt(nextWord(random));
  const low = BigInt(nextWord(random));
  let value = (high << 32n) | low;
  let text = "";
  for (let i = 0; i < 8; i++) {
    text += BASE62_ALPHABET.charAt(Number(value % BASE));
    value /= BASE;
  }
  return text;
}
