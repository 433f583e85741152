import { describe, expect, it } from "vitest";
import {
  type AppendEntry,
  decodeAppendEntry,
  decodeAppendEntryResponse,
  decodeNodeIdPayload,
  decodePeerState,
  decodeReply,
  decodeVoteRequest,
  decodeVoteResponse,
  EntryType,
  encodeAppendEntry,
  encodeAppendEntryResponse,
  encodeNodeIdPayload,
  encodePeerState,
  encodeVoteRequest,
  encodeVoteResponse,
  parseGroupName,
  parseSubject,
} from "../src/index";
import { loadCapture, toHex } from "./support/capture";

// The whole nats-server 2.9.10 capture: every frame decodes, every reply is classified by its
// length, and every decoded frame re-encodes (v2.9 dialect) to exactly the captured bytes.
describe("nats-server 2.9.10 capture", () => {
  const frames = loadCapture();

  it("decodes and re-encodes every frame byte for byte", () => {
    const counts = {
      appendEntry: 0,
      heartbeat: 0,
      catchupAppendEntry: 0,
      voteRequest: 0,
      appendEntryResponse: 0,
      voteResponse: 0,
      peerStateEntries: 0,
      catchupRequests: 0,
      leaderTransferEntries: 0,
    };
    const entryTypes = new Map<number, number>();
    const roundTrip = (decoded: AppendEntry, bytes: Uint8Array): void => {
      expect(toHex(encodeAppendEntry(decoded, { dialect: "v2.9" }))).toBe(toHex(bytes));
      for (const entry of decoded.entries) {
        entryTypes.set(entry.type, (entryTypes.get(entry.type) ?? 0) + 1);
        if (entry.type === EntryType.LeaderTransfer) {
          counts.leaderTransferEntries++;
          const successor = decodeNodeIdPayload(entry.data);
          expect(toHex(encodeNodeIdPayload(successor))).toBe(toHex(entry.data));
        }
        if (entry.type === EntryType.PeerState) {
          counts.peerStateEntries++;
          const peerState = decodePeerState(entry.data);
          expect(toHex(encodePeerState(peerState))).toBe(toHex(entry.data));
        }
      }
    };
    for (const frame of frames) {
      const subject = parseSubject(frame.subject);
      switch (subject.kind) {
        case "appendEntry":
        case "catchup": {
          const ae = decodeAppendEntry(frame.bytes, { dialect: "v2.9" });
          expect(ae.lterm).toBe(0);
          if (subject.kind === "catchup") counts.catchupAppendEntry++;
          else if (ae.entries.length === 0) counts.heartbeat++;
          else counts.appendEntry++;
          roundTrip(ae, frame.bytes);
          break;
        }
        case "vote": {
          const vr = decodeVoteRequest(frame.bytes);
          expect(toHex(encodeVoteRequest(vr))).toBe(toHex(frame.bytes));
          counts.voteRequest++;
          break;
        }
        case "reply": {
          // Replies are told apart by length alone: 25 bytes is an AER, 17 a vote response.
          const reply = decodeReply(frame.bytes, { dialect: "v2.9" });
          if (reply.kind === "appendEntryResponse") {
            expect(frame.bytes.length).toBe(25);
            expect(frame.bytes[24] === 0 || frame.bytes[24] === 1).toBe(true);
            expect(reply.response).toEqual(decodeAppendEntryResponse(frame.bytes));
            expect(toHex(encodeAppendEntryResponse(reply.response))).toBe(toHex(frame.bytes));
            counts.appendEntryResponse++;
          } else {
            expect(frame.bytes.length).toBe(17);
            expect(reply.response).toEqual(decodeVoteResponse(frame.bytes, { dialect: "v2.9" }));
            expect(toHex(encodeVoteResponse(reply.response, { dialect: "v2.9" }))).toBe(
              toHex(frame.bytes),
            );
            counts.voteResponse++;
          }
          break;
        }
        default:
          throw new Error(`unexpected subject ${frame.subject} in frame #${frame.seq}`);
      }
      // Reply subjects are inboxes: `$NRG.R.` normally, `$NRG.CR.` on an AER that asks for catchup.
      if (frame.reply !== "") {
        const reply = parseSubject(frame.reply);
        expect(["reply", "catchup"]).toContain(reply.kind);
        if (reply.kind === "catchup") counts.catchupRequests++;
      }
    }
    console.log("capture counts", counts, "entry types", Object.fromEntries(entryTypes));
    // The figures of shared/vectors/README.md.
    expect(frames.length).toBe(3708);
    expect(counts.heartbeat).toBe(821);
    expect(counts.appendEntry + counts.heartbeat).toBe(1642);
    expect(counts.catchupAppendEntry).toBe(401);
    expect(counts.voteRequest).toBe(6);
    expect(counts.appendEntryResponse + counts.voteResponse).toBe(1659);
    expect(counts.appendEntryResponse).toBe(1647);
    expect(counts.voteResponse).toBe(12);
    expect(counts.peerStateEntries).toBe(6);
    expect(counts.leaderTransferEntries).toBe(2);
    expect([...entryTypes.keys()].sort()).toEqual([
      EntryType.Normal,
      EntryType.PeerState,
      EntryType.LeaderTransfer,
    ]);
  });

  it("decodes in the current dialect to the same frames", () => {
    for (const frame of frames) {
      const { kind } = parseSubject(frame.subject);
      if (kind === "appendEntry" || kind === "catchup") {
        expect(decodeAppendEntry(frame.bytes, { dialect: "current" })).toEqual(
          decodeAppendEntry(frame.bytes, { dialect: "v2.9" }),
        );
      } else if (kind === "reply" && frame.bytes.length === 17) {
        // 2.9.10 answers 0/1, which both dialects read the same way (bit 1 is never set).
        expect(decodeVoteResponse(frame.bytes, { dialect: "current" })).toEqual(
          decodeVoteResponse(frame.bytes, { dialect: "v2.9" }),
        );
      }
    }
  });

  it("names only NATS groups", () => {
    const kinds = new Set<string>();
    for (const frame of frames) {
      const subject = parseSubject(frame.subject);
      if ("group" in subject) kinds.add(parseGroupName(subject.group).kind);
    }
    expect([...kinds].sort()).toEqual(["consumer", "meta", "stream"]);
  });
});
