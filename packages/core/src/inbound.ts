import { EntryType } from "@raft/codec";
import { processVoteRequest, processVoteResponse } from "./election";
import { processAppendEntry } from "./follower";
import { processAppendEntryResponse, queueEntries } from "./leader";
import type { RaftCore } from "./node";
import { readResponse } from "./read-index";
import type { Frame, Inbound } from "./types";
import { decodeFrame, type FrameKind } from "./wire";

/**
 * Route one inbound message by its subject (spec §3) to the role behaviour that handles it. The
 * subject alone decides what a message is: the same append entry is "new" on `$NRG.AE.<group>`
 * and a catchup entry on a `$NRG.CR.` inbox. Anything that is not ours or does not decode is
 * dropped and counted: peer input is never a reason to throw.
 */
export function stepInbound(node: RaftCore, inbound: Inbound): void {
  const kind = kindOf(node, inbound.subject);
  const frame = kind === undefined ? undefined : frameOf(node, kind, inbound);
  if (frame === undefined) {
    node.droppedInvalid++;
    return;
  }
  switch (frame.kind) {
    case "appendEntry": {
      const isNew = inbound.subject === node.subjects.appendEntry;
      processAppendEntry(node, frame.appendEntry, {
        isNew,
        reply: inbound.reply,
        bytes: inbound.bytes,
        onActiveCatchup: !isNew && node.catchup?.subject === inbound.subject,
      });
      return;
    }
    case "appendEntryResponse": {
      const forRead = inbound.subject === node.readRound?.inbox;
      processAppendEntryResponse(node, frame.response, inbound.reply);
      if (forRead) readResponse(node, frame.response);
      return;
    }
    case "voteRequest":
      processVoteRequest(node, frame.request, inbound.reply);
      return;
    case "voteResponse":
      processVoteResponse(node, frame.response);
      return;
    case "proposal":
      stepProposal(node, frame.data, inbound.reply);
      return;
    case "removePeer":
      // A forwarded removal: only a leader that committed its no-op takes it (spec §5.6).
      if (node.state !== "leader" || !node.leaderReady) node.droppedProposals++;
      else if (!node.proposeRemovePeer(frame.peer).ok) node.droppedProposals++;
      return;
    case "proposalReply":
      node.droppedProposals++;
      return;
  }
}

function kindOf(node: RaftCore, subject: string): FrameKind | undefined {
  const s = node.subjects;
  if (subject === s.appendEntry) return "appendEntry";
  if (subject === s.vote) return "voteRequest";
  if (subject === s.appendEntryReply) return "appendEntryResponse";
  if (subject === node.readRound?.inbox) return "appendEntryResponse";
  if (subject === s.voteReply) return "voteResponse";
  if (subject === s.proposal) return "proposal";
  if (subject === s.removePeer) return "removePeer";
  if (subject.startsWith("$NRG.CR.")) return "appendEntry";
  return undefined;
}

function frameOf(node: RaftCore, kind: FrameKind, inbound: Inbound): Frame | undefined {
  if (inbound.frame !== undefined) {
    return inbound.frame.kind === kind ? inbound.frame : undefined;
  }
  if (inbound.bytes === undefined) return undefined;
  return decodeFrame(kind, inbound.bytes, node.dialect);
}

/** A proposal forwarded on `$NRG.P.<group>`: only a leader takes it (spec §5.6). */
function stepProposal(node: RaftCore, data: Uint8Array, reply: string): void {
  if (node.state !== "leader") {
    node.droppedProposals++;
    return;
  }
  queueEntries(node, [{ type: EntryType.Normal, data }]);
  if (reply !== "") node.pendingReplies.push(reply);
}
