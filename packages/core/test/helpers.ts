import type { AppendEntry, Entry } from "@raft/codec";
import { EntryType } from "@raft/codec";
import { createRaftNode } from "../src/node";
import { nodeId, TEST_TIMING } from "../src/testing/cluster";
import { MemoryStorage } from "../src/testing/memory-storage";
import { Prng } from "../src/testing/prng";
import type {
  Frame,
  LogRecord,
  OutboundMessage,
  RaftNode,
  RaftNodeOptions,
  Ready,
} from "../src/types";

export const N1 = nodeId(1);
export const N2 = nodeId(2);
export const N3 = nodeId(3);
export const N4 = nodeId(4);
export const N5 = nodeId(5);
/** A reply inbox of a fake leader. */
export const LEADER_INBOX = "$NRG.R.LEADERIN";

export const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const dec = (b: Uint8Array): string => String.fromCharCode(...b);
export const normal = (s: string): Entry => ({ type: EntryType.Normal, data: enc(s) });

/** One node driven by hand (like nats-server's initSingleMemRaftNode), with durable storage. */
export interface Solo {
  node: RaftNode;
  storage: MemoryStorage;
  /** Handle one Ready like a correct shell (persist, apply, advance); returns it. */
  flush(): Ready | undefined;
  /** All messages of the flushed Readies since the last call. */
  sent: OutboundMessage[];
}

export function solo(options: Partial<RaftNodeOptions> = {}, storage = new MemoryStorage()): Solo {
  const node = createRaftNode({
    id: N1,
    group: "G",
    peers: [N1, N2, N3],
    now: 0,
    random: new Prng(7),
    log: storage,
    hardState: storage.hardState,
    timing: TEST_TIMING,
    ...options,
  });
  const s: Solo = {
    node,
    storage,
    sent: [],
    flush(): Ready | undefined {
      if (!node.hasReady()) return undefined;
      const rd = node.ready();
      storage.persist(rd);
      s.sent.push(...rd.messages);
      node.advance(rd);
      const last = rd.committed[rd.committed.length - 1];
      if (last !== undefined) node.applied(last.index);
      return rd;
    },
  };
  s.flush();
  s.sent.length = 0;
  return s;
}

/** Flush until nothing is ready; returns all messages sent. */
export function drain(s: Solo): OutboundMessage[] {
  for (let i = 0; i < 100 && s.flush() !== undefined; i++);
  const out = [...s.sent];
  s.sent.length = 0;
  return out;
}

export function ae(p: Partial<AppendEntry> = {}): AppendEntry {
  return { leader: N2, term: 1, commit: 0, pterm: 0, pindex: 0, entries: [], lterm: 0, ...p };
}

/** Deliver an append entry on the group's AE subject (or `subject`). */
export function stepAE(node: RaftNode, a: AppendEntry, subject = node.subjects.appendEntry): void {
  node.step({ subject, reply: LEADER_INBOX, frame: { kind: "appendEntry", appendEntry: a } });
}

export function frames<K extends Frame["kind"]>(
  messages: readonly OutboundMessage[],
  kind: K,
): Extract<Frame, { kind: K }>[] {
  return messages
    .map((m) => m.frame)
    .filter((f): f is Extract<Frame, { kind: K }> => f.kind === kind);
}

/** Make `s.node` leader of term 1 with the votes of n2 and n3, and commit its no-op. */
export function makeLeader(s: Solo): void {
  s.node.campaignImmediately();
  s.node.tick(s.node.nextDeadline());
  drain(s);
  grantVotes(s, s.node.term);
  drain(s);
  ackAll(s, s.node.progress().index);
  drain(s);
}

/** Deliver granted votes of `term` from `peers` (n2 and n3 by default) to `s.node`. */
export function grantVotes(
  s: Solo,
  term: number,
  peers: readonly string[] = [N2, N3],
  options: { readonly empty?: boolean } = {},
): void {
  for (const peer of peers) {
    s.node.step({
      subject: s.node.subjects.voteReply,
      reply: "",
      frame: {
        kind: "voteResponse",
        response: { term, peer, granted: true, empty: options.empty ?? false },
      },
    });
  }
}

/** Acknowledge `index` in the current term from n2 and n3. */
export function ackAll(s: Solo, index: number, peers = [N2, N3]): void {
  for (const peer of peers) {
    s.node.step({
      subject: s.node.subjects.appendEntryReply,
      reply: "",
      frame: {
        kind: "appendEntryResponse",
        response: { term: s.node.term, index, peer, success: true },
      },
    });
  }
}

/** The records a storage holds, in index order (skipping compacted or missing ones). */
export function records(s: MemoryStorage): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = s.firstIndex(); i <= s.lastIndex(); i++) {
    const r = s.record(i);
    if (r !== undefined) out.push(r);
  }
  return out;
}
