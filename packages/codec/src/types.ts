/**
 * The decoded shapes of NRG frames (nats-raft-spec §2). These types are the contract between the
 * codec and every layer above it: `@raft/core` reads and builds these objects and never touches
 * bytes itself.
 *
 * Integers on the wire are u64; we carry them as JavaScript numbers. Terms and indexes never reach
 * 2^53 in practice, and decoders reject a larger value with `CodecError` code `VALUE_TOO_LARGE`
 * rather than silently losing precision (see docs/adr/0002-numbers-not-bigints.md).
 */

/** Length in bytes of every node id on the wire (spec §2.1). */
export const NODE_ID_LENGTH = 8;

/**
 * The wire dialect. `"v2.9"` is what nats-server 2.9.10 speaks (no `lterm` trailer on append
 * entries, vote responses carry 0/1); `"current"` is nats-server HEAD (trailer always written, vote
 * flags carry granted and empty-log bits).
 */
export type Dialect = "v2.9" | "current";

/** Entry types of nats-server's append entries (spec §2.3). */
export const EntryType = {
  Normal: 0,
  OldSnapshot: 1,
  PeerState: 2,
  AddPeer: 3,
  RemovePeer: 4,
  LeaderTransfer: 5,
  Snapshot: 6,
  /** Local-only apply-queue signal; never on the wire nor in the WAL. */
  Catchup: 7,
} as const;

/** One of the values of {@link EntryType}. */
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One entry inside an append entry. `data` is a view into the decoded frame (zero copy). */
export interface Entry {
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * An append entry (spec §2.2). With no entries it is a heartbeat. With entries it occupies exactly
 * one log index, `pindex + 1`.
 */
export interface AppendEntry {
  /** The leader's 8-character node id, or `""` when there is no leader (8 zero bytes on the wire). */
  readonly leader: string;
  /** The leader's current term when the frame was built. */
  readonly term: number;
  /** The leader's commit index when sent. */
  readonly commit: number;
  /** Term of the entry that precedes this one in the log. */
  readonly pterm: number;
  /** Index of the entry that precedes this one in the log. */
  readonly pindex: number;
  readonly entries: readonly Entry[];
  /**
   * The leader's current term when it re-sends a stored append entry during catchup; 0 otherwise.
   * Written as a trailing uvarint in the current dialect only.
   */
  readonly lterm: number;
}

/** An append-entry response, 25 bytes (spec §2.4). */
export interface AppendEntryResponse {
  readonly term: number;
  readonly index: number;
  /** The responder's node id. */
  readonly peer: string;
  readonly success: boolean;
}

/** A vote request, 32 bytes (spec §2.5). */
export interface VoteRequest {
  readonly term: number;
  /** The candidate's last log term (pterm). */
  readonly lastTerm: number;
  /** The candidate's last log index (pindex). */
  readonly lastIndex: number;
  readonly candidate: string;
}

/** A vote response, 17 bytes (spec §2.6). */
export interface VoteResponse {
  readonly term: number;
  readonly peer: string;
  readonly granted: boolean;
  /** The voter's log is empty (current dialect only; always false when decoding v2.9). */
  readonly empty: boolean;
}

/** Extension state carried by a peer state (spec §2.7). */
export const ExtensionState = { Undetermined: 0, Extended: 1, NotExtended: 2 } as const;

/** One of the values of {@link ExtensionState}. */
export type ExtensionState = (typeof ExtensionState)[keyof typeof ExtensionState];

/** A peer state: cluster size and membership (spec §2.7), the payload of `EntryType.PeerState`. */
export interface PeerState {
  readonly clusterSize: number;
  readonly peers: readonly string[];
  /** Absent on the wire means 0 (undetermined). */
  readonly extState: number;
}

/**
 * A source of randomness injected by the caller, so that pure code stays deterministic. Returns a
 * uniformly distributed integer in [0, 2^32).
 */
export interface RandomSource {
  nextUint32(): number;
}
