/**
 * The 8-byte node-id payloads (nats-raft-spec §2.3, §3): the data of AddPeer, RemovePeer and
 * LeaderTransfer entries, and the body of a forwarded peer removal on `$NRG.RP.<group>`.
 */
import type { EncodeFixedOptions } from "./append-entry-response";
import { checkNodeId, outputBuffer, readNodeId, writeCheckedNodeId } from "./bytes";
import { CodecError } from "./errors";
import { NODE_ID_LENGTH } from "./types";

/**
 * Encodes a node id as its 8 ASCII bytes. Returns a view of exactly 8 bytes (into
 * `options.buffer` when it is large enough).
 *
 * @throws CodecError BAD_NODE_ID unless `id` is 8 printable ASCII characters.
 */
export function encodeNodeIdPayload(id: string, options: EncodeFixedOptions = {}): Uint8Array {
  checkNodeId(id, "node id", false);
  const out = outputBuffer(NODE_ID_LENGTH, options.buffer);
  writeCheckedNodeId(out, 0, id);
  return out;
}

/**
 * Decodes an 8-byte node-id payload.
 *
 * @throws CodecError BAD_LENGTH (not exactly 8 bytes), BAD_NODE_ID (not printable ASCII).
 */
export function decodeNodeIdPayload(bytes: Uint8Array): string {
  if (bytes.length !== NODE_ID_LENGTH) {
    throw new CodecError(
      "BAD_LENGTH",
      `a node-id payload is ${NODE_ID_LENGTH} bytes, got ${bytes.length}`,
    );
  }
  return readNodeId(bytes, 0, "node id", false);
}
