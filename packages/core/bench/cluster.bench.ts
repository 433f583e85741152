import { bench, describe } from "vitest";
import { Cluster, nodeId } from "../src/testing/cluster";
import type { RaftNode } from "../src/types";

/**
 * Throughput of the pure core in a 3-node cluster over the in-memory harness, in one process.
 * Each iteration commits `PER_ITERATION` entries on the leader and applies them on every node, so
 * entries/s = hz × PER_ITERATION. "batched": all proposals of an iteration go into as few append
 * entries as the limits allow (≤ 4,096 entries / 256 KiB each); "unbatched": a Ready after every
 * proposal, so every entry is its own append entry and its own log index.
 */
const PER_ITERATION = 4_096;

function electedCluster(): { cluster: Cluster; leader: RaftNode } {
  const ids = [1, 2, 3].map(nodeId);
  const cluster = new Cluster({ ids, retainApplied: false });
  const leader = cluster.node(ids[0] as string);
  leader.campaignImmediately();
  cluster.advanceTime(50);
  cluster.stabilize();
  return { cluster, leader };
}

function payload(size: number): Uint8Array {
  return new Uint8Array(size).fill(0x61);
}

for (const size of [64, 1024]) {
  describe(`3-node cluster, ${size} B entries, ${PER_ITERATION} entries per iteration`, () => {
    const data = payload(size);
    {
      const { cluster, leader } = electedCluster();
      bench(`commit ${PER_ITERATION} × ${size} B, batched`, () => {
        for (let i = 0; i < PER_ITERATION; i++) leader.propose(leader.term, data);
        cluster.stabilize();
      });
    }
    {
      const { cluster, leader } = electedCluster();
      const unbatched = PER_ITERATION / 16;
      bench(`commit ${unbatched} × ${size} B, unbatched (one append entry each)`, () => {
        for (let i = 0; i < unbatched; i++) {
          leader.propose(leader.term, data);
          cluster.processReady(leader.id);
        }
        cluster.stabilize();
      });
    }
    {
      const { leader } = electedCluster();
      bench(
        `propose ${PER_ITERATION} × ${size} B and build the leader's Ready (no replication)`,
        () => {
          for (let i = 0; i < PER_ITERATION; i++) leader.propose(leader.term, data);
          const rd = leader.ready();
          leader.advance(rd);
        },
      );
    }
  });
}
