import { type AppendEntry, type Entry, EntryType } from "@raft/codec";
import type { Frame } from "../types";

const TYPE_NAMES: readonly string[] = [
  "Normal",
  "OldSnapshot",
  "PeerState",
  "AddPeer",
  "RemovePeer",
  "LeaderTransfer",
  "Snapshot",
  "Catchup",
];

/** Harness ids are `n1xxxxxx`: show them as `n1`. */
export function shortId(id: string): string {
  return id === "" ? "-" : id.replace(/x+$/, "");
}

function printable(data: Uint8Array): string {
  let s = "";
  for (const b of data) {
    if (b < 0x20 || b > 0x7e) return `${data.length}B`;
    s += String.fromCharCode(b);
  }
  return JSON.stringify(s);
}

/** One entry: `Normal:"data"`, `PeerState`, `LeaderTransfer:n2`. */
export function formatEntry(e: Entry): string {
  const name = TYPE_NAMES[e.type] ?? `Type${e.type}`;
  if (e.type === EntryType.Normal) return `${name}:${printable(e.data)}`;
  if (e.type === EntryType.LeaderTransfer) {
    return `${name}:${shortId(String.fromCharCode(...e.data))}`;
  }
  return name;
}

/** A list of entries. */
export function formatEntries(entries: readonly Entry[]): string {
  return `[${entries.map(formatEntry).join(" ")}]`;
}

function formatAE(ae: AppendEntry): string {
  const lterm = ae.lterm !== 0 ? ` lterm=${ae.lterm}` : "";
  return (
    `AE leader=${shortId(ae.leader)} term=${ae.term} commit=${ae.commit} ` +
    `prev=(${ae.pterm},${ae.pindex})${lterm} ${formatEntries(ae.entries)}`
  );
}

/** A frame on one line, for transcripts. */
export function formatFrame(f: Frame): string {
  switch (f.kind) {
    case "appendEntry":
      return formatAE(f.appendEntry);
    case "appendEntryResponse": {
      const r = f.response;
      return `AER term=${r.term} index=${r.index} peer=${shortId(r.peer)} ${r.success ? "ok" : "fail"}`;
    }
    case "voteRequest": {
      const r = f.request;
      return `VoteRequest term=${r.term} last=(${r.lastTerm},${r.lastIndex}) candidate=${shortId(r.candidate)}`;
    }
    case "voteResponse": {
      const r = f.response;
      const flags = `${r.granted ? "granted" : "denied"}${r.empty ? " empty" : ""}`;
      return `VoteResponse term=${r.term} peer=${shortId(r.peer)} ${flags}`;
    }
    case "proposal":
      return `Proposal ${printable(f.data)}`;
    case "removePeer":
      return `RemovePeer ${shortId(f.peer)}`;
    case "proposalReply":
      return "ProposalReply";
  }
}
