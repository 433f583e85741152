/**
 * The peer state (nats-raft-spec §2.7), 10 + 8·n bytes:
 * `clusterSize u32 · n u32 · n × peer[8] · extState u16`. The trailing u16 is optional on decode
 * (absent means 0) and always written. Identical in both dialects.
 */
import type { EncodeFixedOptions } from "./append-entry-response";
import {
  checkNodeId,
  checkUnsigned,
  outputBuffer,
  readNodeId,
  readU16,
  readU32,
  writeCheckedNodeId,
  writeU16,
  writeU32,
} from "./bytes";
import { CodecError } from "./errors";
import { NODE_ID_LENGTH, type PeerState } from "./types";

const PEER_STATE_HEADER_LENGTH = 8;
const EXT_STATE_LENGTH = 2;

/** Encoded size of a peer state with `peerCount` peers: 10 + 8 × peerCount. */
export function peerStateSize(peerCount: number): number {
  return PEER_STATE_HEADER_LENGTH + NODE_ID_LENGTH * peerCount + EXT_STATE_LENGTH;
}

/**
 * Encodes a peer state, always with the extension-state u16. Returns a view of exactly
 * 10 + 8·n bytes (into `options.buffer` when it is large enough).
 *
 * @throws CodecError BAD_NUMBER / VALUE_TOO_LARGE (clusterSize not a u32, extState not a u16),
 *   BAD_NODE_ID (a peer that is not 8 printable ASCII characters).
 */
export function encodePeerState(ps: PeerState, options: EncodeFixedOptions = {}): Uint8Array {
  checkUnsigned(ps.clusterSize, 0xffff_ffff, "clusterSize");
  checkUnsigned(ps.extState, 0xffff, "extState");
  const peers = ps.peers;
  for (let i = 0; i < peers.length; i++) checkNodeId(peers[i] as string, `peers[${i}]`, false);
  const size = peerStateSize(peers.length);
  const out = outputBuffer(size, options.buffer);
  writeU32(out, 0, ps.clusterSize);
  writeU32(out, 4, peers.length);
  let offset = PEER_STATE_HEADER_LENGTH;
  for (let i = 0; i < peers.length; i++) {
    writeCheckedNodeId(out, offset, peers[i] as string);
    offset += NODE_ID_LENGTH;
  }
  writeU16(out, offset, ps.extState);
  return out;
}

/**
 * Decodes a peer state. The input must be exactly 8 + 8·n bytes (extState 0) or 10 + 8·n bytes.
 *
 * @throws CodecError TRUNCATED (fewer than 8 bytes, fewer than n ids, or half an extState),
 *   TRAILING_BYTES (more than 10 + 8·n bytes), BAD_NODE_ID.
 */
export function decodePeerState(bytes: Uint8Array): PeerState {
  const end = bytes.length;
  if (end < PEER_STATE_HEADER_LENGTH) {
    throw new CodecError(
      "TRUNCATED",
      `peer state needs at least ${PEER_STATE_HEADER_LENGTH} bytes, got ${end}`,
    );
  }
  const clusterSize = readU32(bytes, 0);
  const count = readU32(bytes, 4);
  // Compare before allocating: a forged count must not make us build a huge array.
  const idsEnd = PEER_STATE_HEADER_LENGTH + count * NODE_ID_LENGTH;
  if (idsEnd > end) {
    throw new CodecError(
      "TRUNCATED",
      `peer state declares ${count} peers but has ${end - PEER_STATE_HEADER_LENGTH} bytes for them`,
    );
  }
  if (end === idsEnd + 1) {
    throw new CodecError("TRUNCATED", "peer state ends inside its extension state");
  }
  if (end > idsEnd + EXT_STATE_LENGTH) {
    throw new CodecError(
      "TRAILING_BYTES",
      `peer state has ${end - idsEnd - EXT_STATE_LENGTH} bytes after its extension state`,
    );
  }
  const peers: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    peers[i] = readNodeId(bytes, PEER_STATE_HEADER_LENGTH + i * NODE_ID_LENGTH, "peer", false);
  }
  const extState = end === idsEnd ? 0 : readU16(bytes, idsEnd);
  return { clusterSize, peers, extState };
}
