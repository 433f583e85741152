import { runChecker } from "./src/testing/checker";

const r = runChecker({
  seed: 1548,
  steps: 3_000,
  trace: (l) => {
    if (l.startsWith("converge")) console.log(l);
  },
  onViolation: (c: any) => {
    for (const id of c.ids ?? []) {
      const n = c.node(id);
      console.log(
        id.slice(0, 3),
        n.state,
        "term",
        n.term,
        "obs",
        n.isObserver(),
        "peers",
        n
          .peerNames()
          .map((p: string) => p.slice(0, 3))
          .join(","),
        "csz",
        n.clusterSize(),
        "prog",
        JSON.stringify(n.progress()),
        "memb",
        n.membershipChangeInProgress(),
        "rws",
        n.removalWaitSince,
        "lls",
        n.leaderLastSeen,
        "now",
        n.now,
        "removed",
        [...n.removed.keys()].map((p: string) => p.slice(0, 3)).join(","),
        "catchup",
        n.catchup !== undefined,
        "paused",
        n.paused,
        "proc",
        n.processedIndex,
        "commit",
        n.commit,
        "deadline",
        n.electionDeadline,
        "managed",
        n.managed,
        "self",
        n.selfMember,
        "mc",
        JSON.stringify(n.membChange),
      );
    }
  },
});
console.log(JSON.stringify(r.violation));
