import { bench, describe } from "vitest";
import { createRaftNode } from "../src/node";
import { Cluster, nodeId, TEST_TIMING } from "../src/testing/cluster";
import { MemoryStorage } from "../src/testing/memory-storage";
import { Prng } from "../src/testing/prng";
import type { OutboundMessage, RaftNode } from "../src/types";

/**
 * Catchup and snapshot installation, leader and follower in one process, every message handed
 * over as encoded bytes (the follower decodes them as behind a real transport). Time between
 * catchup rounds is virtual: a round is one catchup request, the leader's ≤ 2 MiB stream and the
 * follower persisting it; the follower re-requests after its stall timeout, which costs nothing
 * here. So the figures are the CPU cost of catchup in the core, not wall-clock catchup speed.
 */

const ids = [1, 2, 3].map(nodeId);
const [N1, , N3] = ids as [string, string, string];
const BEHIND = 100_000;
const SNAPSHOT_BYTES = 64 * 1024 * 1024;

/** A leader (n1) whose log holds `BEHIND` records of one 64-byte entry each; n3 never saw them. */
function leaderWithLog(): { cluster: Cluster; leader: RaftNode } {
  const cluster = new Cluster({ ids, retainApplied: false });
  const leader = cluster.node(N1);
  leader.campaignImmediately();
  cluster.advanceTime(50);
  cluster.stabilize();
  cluster.crash(N3);
  const data = new Uint8Array(64).fill(0x61);
  while (leader.progress().index < BEHIND) {
    for (let i = 0; i < 256 && leader.progress().index < BEHIND; i++) {
      leader.propose(leader.term, data);
      cluster.processReady(N1);
    }
    cluster.stabilize();
  }
  return { cluster, leader };
}

/** A fresh, empty follower n3. */
function freshFollower(now: number): { node: RaftNode; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  const node = createRaftNode({
    id: N3,
    group: "G",
    peers: ids,
    now,
    random: new Prng(9),
    log: storage,
    timing: TEST_TIMING,
  });
  return { node, storage };
}

/** Handle every Ready of `node` like a shell; returns the messages. */
function drain(node: RaftNode, storage: MemoryStorage): OutboundMessage[] {
  const out: OutboundMessage[] = [];
  while (node.hasReady()) {
    const rd = node.ready();
    storage.persist(rd);
    out.push(...rd.messages);
    node.advance(rd);
    const last = rd.committed[rd.committed.length - 1];
    if (last !== undefined) node.applied(last.index);
  }
  return out;
}

/**
 * Catch `follower` up with `leader` until its last index reaches `target`: heartbeat, catchup
 * request, the leader's stream, repeated after each stall.
 */
function catchUp(
  leader: RaftNode,
  leaderStorage: MemoryStorage,
  follower: RaftNode,
  storage: MemoryStorage,
  target: number,
): void {
  let now = follower.nextDeadline() - 1_000;
  for (let round = 0; round < 1_000 && follower.progress().index < target; round++) {
    now += TEST_TIMING.heartbeatIntervalMs as number;
    now += 2_001; // past the follower's catchup stall timeout: it re-requests
    follower.tick(now);
    const p = leader.progress();
    const heartbeat = {
      leader: leader.id,
      term: leader.term,
      commit: p.commit,
      pterm: leader.term,
      pindex: p.index,
      entries: [],
      lterm: 0,
    };
    follower.step({
      subject: follower.subjects.appendEntry,
      reply: leader.subjects.appendEntryReply,
      frame: { kind: "appendEntry", appendEntry: heartbeat },
    });
    for (const m of drain(follower, storage)) {
      if (m.subject === leader.subjects.appendEntryReply) {
        leader.step({ subject: m.subject, reply: m.reply, bytes: m.data });
      }
    }
    for (const m of drain(leader, leaderStorage)) {
      if (m.subject.startsWith("$NRG.CR.")) {
        follower.step({ subject: m.subject, reply: m.reply, bytes: m.data });
      }
    }
    drain(follower, storage);
  }
  if (follower.progress().index < target) throw new Error("catchup did not finish");
}

describe(`catchup of a follower ${BEHIND.toLocaleString("en")} entries behind`, () => {
  const { cluster, leader } = leaderWithLog();
  bench(
    `stream ${BEHIND.toLocaleString("en")} × 64 B entries to a new follower (one iteration)`,
    () => {
      const f = freshFollower(cluster.now);
      catchUp(leader, cluster.storage(N1), f.node, f.storage, BEHIND);
    },
    { iterations: 5, warmupIterations: 1 },
  );
});

describe("snapshot installation, 64 MiB", () => {
  // A leader whose log starts after a 64 MiB snapshot (it restarted from it).
  const storage = new MemoryStorage();
  const data = new Uint8Array(SNAPSHOT_BYTES).fill(0x5a);
  const snapshot = { term: 1, index: 1_000, peerState: new Uint8Array(0), data };
  const leader = createRaftNode({
    id: N1,
    group: "G",
    peers: ids,
    now: 0,
    random: new Prng(3),
    log: storage,
    hardState: { term: 1, vote: "" },
    snapshot,
    timing: TEST_TIMING,
  });
  drain(leader, storage);
  leader.campaignImmediately();
  leader.tick(leader.nextDeadline());
  drain(leader, storage);
  for (const peer of [ids[1] as string]) {
    leader.step({
      subject: leader.subjects.voteReply,
      reply: "",
      frame: {
        kind: "voteResponse",
        response: { term: leader.term, peer, granted: true, empty: false },
      },
    });
  }
  drain(leader, storage);
  if (leader.state !== "leader") throw new Error("bench setup: no leader");
  bench(
    "install a 64 MiB leader snapshot on a new follower (request, encode, decode, save, deliver)",
    () => {
      const f = freshFollower(0);
      catchUp(leader, storage, f.node, f.storage, snapshot.index);
      if (f.storage.snapshot?.data.length !== SNAPSHOT_BYTES) throw new Error("not installed");
    },
    { iterations: 5, warmupIterations: 1 },
  );
});
