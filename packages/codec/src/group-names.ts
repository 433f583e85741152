/**
 * NATS Raft group names (nats-raft-spec §3): the meta group `_meta_`, stream groups
 * `S-R<n><F|M>-<8 chars>` and consumer groups `C-R<n><F|M>-<8 chars>` (F = file storage,
 * M = memory; the suffix is 8 base-62 characters).
 */
import { isBase62, randomBase62 } from "./base62";
import { CodecError } from "./errors";
import type { RandomSource } from "./types";

/** The name of the JetStream meta group. */
export const META_GROUP = "_meta_";

/** Storage of a stream or consumer, encoded as `F` or `M` in its group name. */
export type StorageType = "file" | "memory";

/** Options of {@link streamGroupName} and {@link consumerGroupName}. */
export interface GroupNameOptions {
  /** Replication factor: a positive integer. */
  readonly replicas: number;
  readonly storage: StorageType;
  /** Source of the 8-character suffix (two `nextUint32` calls). */
  readonly random: RandomSource;
}

/** A parsed group name. */
export type ParsedGroupName =
  | { readonly kind: "meta" }
  | {
      readonly kind: "stream" | "consumer";
      readonly replicas: number;
      readonly storage: StorageType;
      /** The 8 base-62 characters after the last dash. */
      readonly suffix: string;
    };

const SUFFIX_LENGTH = 8;
const GROUP_PATTERN = /^([SC])-R([1-9][0-9]{0,8})([FM])-([0-9A-Za-z]{8})$/;

function assetGroupName(prefix: "S" | "C", options: GroupNameOptions): string {
  const { replicas, storage } = options;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 999_999_999) {
    throw new CodecError(
      "BAD_NUMBER",
      `replicas must be an integer in [1, 999999999], got ${replicas}`,
    );
  }
  if (storage !== "file" && storage !== "memory") {
    throw new CodecError(
      "BAD_GROUP_NAME",
      `storage must be "file" or "memory", got ${String(storage)}`,
    );
  }
  const suffix = randomBase62(options.random);
  return `${prefix}-R${replicas}${storage === "file" ? "F" : "M"}-${suffix}`;
}

/**
 * A new stream group name, `S-R<replicas><F|M>-<8 base-62 chars>`, e.g. `S-R3F-95CXT8g4`.
 *
 * @throws CodecError BAD_NUMBER (replicas not a positive integer below 10^9, or a bad random
 *   value), BAD_GROUP_NAME (unknown storage).
 */
export function streamGroupName(options: GroupNameOptions): string {
  return assetGroupName("S", options);
}

/**
 * A new consumer group name, `C-R<replicas><F|M>-<8 base-62 chars>`.
 *
 * @throws CodecError like {@link streamGroupName}.
 */
export function consumerGroupName(options: GroupNameOptions): string {
  return assetGroupName("C", options);
}

/**
 * Parses a NATS group name. Accepts `_meta_` and the stream and consumer forms exactly (replica
 * count without leading zeros).
 *
 * @throws CodecError BAD_GROUP_NAME for any other name.
 */
export function parseGroupName(name: string): ParsedGroupName {
  if (name === META_GROUP) return { kind: "meta" };
  const match = typeof name === "string" ? GROUP_PATTERN.exec(name) : null;
  if (match === null) {
    throw new CodecError("BAD_GROUP_NAME", `not a NATS Raft group name: ${JSON.stringify(name)}`);
  }
  const [, prefix = "", replicas = "", storage = "", suffix = ""] = match;
  // Invariant: the pattern captured exactly 8 base-62 characters.
  if (!isBase62(suffix, SUFFIX_LENGTH)) throw new Error("group-name pattern and alphabet disagree");
  return {
    kind: prefix === "S" ? "stream" : "consumer",
    replicas: Number(replicas),
    storage: storage === "F" ? "file" : "memory",
    suffix,
  };
}
