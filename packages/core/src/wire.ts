import {
  type AppendEntry,
  type AppendEntryResponse,
  type Dialect,
  decodeAppendEntry,
  decodeAppendEntryResponse,
  decodeVoteRequest,
  decodeVoteResponse,
  encodeAppendEntry,
  encodeAppendEntryResponse,
  encodeVoteRequest,
  encodeVoteResponse,
  type VoteRequest,
  type VoteResponse,
} from "@raft/codec";
import type { Frame } from "./types";

/**
 * The only place where the core touches bytes: thin adapters over `@raft/codec`, so that the rest
 * of the state machine works on decoded frames.
 */

/** Encode an append entry in `dialect`. */
export function encodeAE(ae: AppendEntry, dialect: Dialect): Uint8Array {
  return encodeAppendEntry(ae, { dialect });
}

/** Decode stored or received append-entry bytes; `undefined` when they do not decode. */
export function decodeAE(bytes: Uint8Array): AppendEntry | undefined {
  try {
    return decodeAppendEntry(bytes);
  } catch {
    return undefined;
  }
}

/** Encode an append-entry response. */
export function encodeAER(aer: AppendEntryResponse): Uint8Array {
  return encodeAppendEntryResponse(aer);
}

/** Encode a vote request. */
export function encodeVReq(vr: VoteRequest): Uint8Array {
  return encodeVoteRequest(vr);
}

/** Encode a vote response in `dialect` (v2.9 carries no empty bit). */
export function encodeVResp(vr: VoteResponse, dialect: Dialect): Uint8Array {
  return encodeVoteResponse(vr, { dialect });
}

/** What a subject of ours carries, which tells how to decode its bytes. */
export type FrameKind = Frame["kind"];

/**
 * Decode `bytes` as a frame of `kind`. Returns `undefined` for bytes that do not decode: network
 * input is never a reason to throw.
 */
export function decodeFrame(
  kind: FrameKind,
  bytes: Uint8Array,
  dialect: Dialect,
): Frame | undefined {
  try {
    switch (kind) {
      case "appendEntry":
        return { kind, appendEntry: decodeAppendEntry(bytes) };
      case "appendEntryResponse":
        return { kind, response: decodeAppendEntryResponse(bytes) };
      case "voteRequest":
        return { kind, request: decodeVoteRequest(bytes) };
      case "voteResponse":
        return { kind, response: decodeVoteResponse(bytes, { dialect }) };
      case "proposal":
        return { kind, data: bytes };
      case "removePeer":
        return bytes.length === 8 ? { kind, peer: asciiOf(bytes) } : undefined;
      case "proposalReply":
        return { kind };
    }
  } catch {
    return undefined;
  }
}

/** 8-character ASCII id → bytes (ids are ASCII by construction, spec §2.1). */
export function bytesOfAscii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

/** Bytes → ASCII string. */
export function asciiOf(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
