import { CodecError, decodePayload, encodePayload } from "@raft/codec";

/**
 * A proposal as replicated: MessagePack `[id, command]`. The id is unique per server process
 * (`<nonce>-<sequence>`), so the proposing server can match an applied entry to the `propose`
 * call that created it without trusting indexes, which change meaning across leader changes.
 */
export interface ProposalEnvelope {
  readonly id: string;
  readonly command: unknown;
}

/**
 * Encodes a proposal envelope.
 * @throws CodecError `BAD_PAYLOAD` when `command` is not MessagePack-encodable.
 */
export function encodeProposal(id: string, command: unknown): Uint8Array {
  return encodePayload([id, command]);
}

/**
 * Decodes an envelope, or returns `undefined` for bytes that are not one (foreign or damaged
 * entries are skipped and counted by the caller, never thrown).
 */
export function decodeProposal(bytes: Uint8Array): ProposalEnvelope | undefined {
  let value: unknown;
  try {
    value = decodePayload(bytes);
  } catch (error) {
    if (error instanceof CodecError) return undefined;
    throw error;
  }
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string") {
    return undefined;
  }
  return { id: value[0], command: value[1] };
}
