import { EntryType } from "@raft/codec";
import type { CommittedEntry, LogRecord, OutboundMessage, ReadState, Ready } from "../types";
import type { Cluster, ClusterObserver } from "./cluster";

/** A broken safety property, found by {@link InvariantChecker}. */
export interface Violation {
  readonly invariant:
    | "election-safety"
    | "log-matching"
    | "leader-completeness"
    | "state-machine-safety"
    | "committed-lost"
    | "term-decreased"
    | "commit-decreased"
    | "ack-before-persist"
    | "stale-read"
    | "no-convergence";
  readonly detail: string;
}

interface Known {
  readonly prevTerm: number;
  readonly data: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Raft's safety properties, checked incrementally as the cluster works (as a
 * {@link ClusterObserver}) and after every step (`checkStep`):
 *
 * - election safety: at most one leader per term;
 * - log matching: a record (index, term) has the same bytes and the same predecessor term in every
 *   persisted log, which by induction makes the whole prefixes identical;
 * - leader completeness: a new leader's persisted log holds every committed record;
 * - state-machine safety: every node applies the same record at each index, in index order;
 * - committed entries are never removed from any persisted log;
 * - a node's term never decreases (across restarts) and its commit never decreases (within a run);
 * - nothing is acknowledged before it is persisted: a granted vote leaves only once the vote is
 *   durable, a successful append-entry response only once the record it names is durable;
 * - state digests (see `Cluster.digest`) agree at every applied index, snapshots included;
 * - linearizable reads: a confirmed read's index is at least every commit index any node had when
 *   the read was requested (register reads with `readRequested`).
 */
export class InvariantChecker implements ClusterObserver {
  readonly violations: Violation[] = [];
  private cluster: Cluster | undefined;
  private readonly leaders = new Map<number, string>();
  private readonly records = new Map<string, Known>();
  /** Committed records by index (index 0 unused), learned from applies. */
  private readonly committed: LogRecord[] = [];
  private readonly lastTerm = new Map<string, number>();
  private readonly lastCommit = new Map<string, number>();
  private readonly lastApplied = new Map<string, number>();
  /** Possible premature commits seen at commit time, confirmed when the record is applied. */
  private readonly suspects = new Map<number, LogRecord & { readonly detail: string }>();
  /** State digest after applying each index, from the first node that applied it. */
  private readonly digests = new Map<number, number>();
  /** Highest commit index any node ever reached. */
  private maxCommit = 0;
  /** Set when the run changes membership: electability then follows each node's configuration. */
  dynamicMembership = false;
  /** Counters that show what a run exercised. */
  readonly counts: { snapshotsApplied: number; readsConfirmed: number; readsFailed: number } = {
    snapshotsApplied: 0,
    readsConfirmed: 0,
    readsFailed: 0,
  };
  /** Reads requested and not answered yet: `node/id` → highest commit known at request time. */
  private readonly reads = new Map<string, number>();

  attach(cluster: Cluster): void {
    this.cluster = cluster;
  }

  /** Record a violation found outside the checker (e.g. by the convergence phase). */
  fail(invariant: Violation["invariant"], detail: string): void {
    this.violations.push({ invariant, detail });
  }

  private get c(): Cluster {
    if (this.cluster === undefined) throw new Error("InvariantChecker: attach() a cluster first");
    return this.cluster;
  }

  onSend(from: string, message: OutboundMessage, to: readonly string[]): void {
    const f = message.frame;
    const durable = this.c.storage(from);
    // A promise made in term t is also kept when a newer term is durable: that newer term
    // superseded the vote or truncated the entry, and the node can never return to term t.
    if (f.kind === "voteResponse" && f.response.granted) {
      const hs = durable.hardState;
      const t = f.response.term;
      if (hs.term < t || (hs.term === t && hs.vote === "")) {
        this.fail("ack-before-persist", `${from} granted a vote in term ${t} not durable`);
      } else if (hs.term === t && to.length > 0 && !to.includes(hs.vote)) {
        this.fail("ack-before-persist", `${from} granted a vote to ${to} but persisted ${hs.vote}`);
      }
    } else if (f.kind === "appendEntryResponse" && f.response.success) {
      const r = f.response;
      const held = durable.lastIndex() >= r.index && durable.termAt(r.index) === r.term;
      if (!held && durable.hardState.term <= r.term) {
        this.fail("ack-before-persist", `${from} acked (${r.term}, ${r.index}) not durable`);
      }
    }
  }

  onPersist(id: string, ready: Ready, dropped: readonly LogRecord[]): void {
    const storage = this.c.storage(id);
    for (const r of dropped) {
      const k = this.committed[r.index];
      if (k !== undefined && k.term === r.term) {
        this.fail("committed-lost", `${id} truncated committed (${r.term}, ${r.index})`);
      }
    }
    for (const r of ready.append) {
      const prevTerm = storage.termAt(r.index - 1) ?? -1;
      const key = `${r.index}:${r.term}`;
      const known = this.records.get(key);
      if (known === undefined) this.records.set(key, { prevTerm, data: r.data });
      else if (known.prevTerm !== prevTerm || !sameBytes(known.data, r.data)) {
        this.fail("log-matching", `${id} stored a different (${r.term}, ${r.index})`);
      }
    }
    if (ready.softState?.state === "leader") this.checkCompleteness(id);
  }

  private checkCompleteness(id: string): void {
    const storage = this.c.storage(id);
    const snap = storage.snapshot;
    for (let i = 1; i < this.committed.length; i++) {
      const k = this.committed[i];
      if (k === undefined) continue;
      // A snapshot covers what it compacted; its digest was checked when it was applied.
      if (snap !== undefined && i < snap.index) continue;
      if (snap !== undefined && i === snap.index) {
        if (snap.term !== k.term) this.fail("leader-completeness", `leader ${id} snapshot at ${i}`);
        continue;
      }
      const mine = storage.record(i);
      if (mine === undefined || mine.term !== k.term || !sameBytes(mine.data, k.data)) {
        this.fail("leader-completeness", `leader ${id} lacks committed (${k.term}, ${i})`);
        return;
      }
    }
  }

  onApply(id: string, entry: CommittedEntry): void {
    const expected = (this.lastApplied.get(id) ?? 0) + 1;
    const snap = isSnapshot(entry) ? this.c.storage(id).snapshot : undefined;
    if (snap !== undefined && snap.index === entry.index) {
      if (entry.index < expected) {
        this.fail("state-machine-safety", `${id} applied a snapshot at ${entry.index} going back`);
      }
      this.lastApplied.set(id, entry.index);
      this.checkDigest(id, entry.index);
      this.counts.snapshotsApplied++;
      return;
    }
    if (entry.index !== expected) {
      this.fail("state-machine-safety", `${id} applied ${entry.index}, expected ${expected}`);
    }
    this.lastApplied.set(id, entry.index);
    this.checkDigest(id, entry.index);
    const record = this.c.storage(id).record(entry.index);
    if (record === undefined) {
      this.fail("state-machine-safety", `${id} applied ${entry.index} it does not store`);
      return;
    }
    const k = this.committed[entry.index];
    if (k === undefined) {
      this.committed[entry.index] = record;
      const suspect = this.suspects.get(entry.index);
      if (suspect !== undefined && suspect.term === record.term) {
        if (sameBytes(suspect.data, record.data)) this.fail("leader-completeness", suspect.detail);
      }
      this.suspects.delete(entry.index);
      const detail = this.electableWithout(record);
      if (detail !== undefined) this.fail("leader-completeness", detail);
    } else if (k.term !== record.term || !sameBytes(k.data, record.data)) {
      this.fail("state-machine-safety", `${id} applied a different record at ${entry.index}`);
    }
  }

  private checkDigest(id: string, index: number): void {
    const digest = this.c.digest(id);
    const known = this.digests.get(index);
    if (known === undefined) this.digests.set(index, digest);
    else if (known !== digest) this.fail("state-machine-safety", `${id} state differs at ${index}`);
  }

  /** A read was requested on `id` with id `readId`: remember the highest commit known now. */
  readRequested(id: string, readId: string): void {
    const c = this.c;
    for (const other of c.ids) {
      if (c.isUp(other)) this.maxCommit = Math.max(this.maxCommit, c.node(other).progress().commit);
    }
    this.reads.set(`${id}/${readId}`, this.maxCommit);
  }

  onReads(id: string, reads: readonly ReadState[]): void {
    for (const r of reads) {
      const key = `${id}/${r.id}`;
      const needed = this.reads.get(key);
      this.reads.delete(key);
      if (r.code !== undefined) this.counts.readsFailed++;
      else this.counts.readsConfirmed++;
      if (needed === undefined || r.code !== undefined) continue;
      if (r.index < needed) {
        this.fail("stale-read", `${id} confirmed read ${r.id} at ${r.index}, commit was ${needed}`);
      }
    }
  }

  /**
   * Leader completeness, checked ahead of time: when a record becomes committed, no node lacking
   * it may be able to win an election, i.e. collect a majority of nodes whose durable logs are no
   * more up to date than its own (Raft §5.4.1 vote rule). Correct Raft guarantees this from the
   * moment of commit, because the majority that acknowledged the record stores it durably and is
   * more up to date than any node lacking it. Returns the violation, if any.
   */
  private electableWithout(record: LogRecord): string | undefined {
    const c = this.c;
    const last = c.ids.map((id) => {
      const s = c.storage(id);
      const index = s.lastIndex();
      const covered = s.snapshot !== undefined && s.snapshot.index >= record.index;
      const has = covered || s.record(record.index)?.term === record.term;
      return { id, index, term: s.termAt(index) ?? 0, has };
    });
    for (const cand of last) {
      if (cand.has) continue;
      const config = this.configOf(cand.id);
      if (config === undefined) continue;
      let voters = 0;
      for (const v of last) {
        if (!config.members.has(v.id)) continue;
        if (v.term < cand.term || (v.term === cand.term && v.index <= cand.index)) voters++;
      }
      if (voters >= config.quorum) {
        return (
          `committed (${record.term}, ${record.index}) is missing on ${cand.id}, ` +
          `which ${voters} nodes would elect`
        );
      }
    }
    return undefined;
  }

  /**
   * Who `id` would count votes from, and how many it needs. With a fixed membership: everyone, a
   * majority. With membership changes: a live node's own view (its latest configuration, as Raft's
   * single-server changes prescribe); a node that is down is skipped, as its view is unknown.
   */
  private configOf(id: string): { members: Set<string>; quorum: number } | undefined {
    const c = this.c;
    if (!this.dynamicMembership) {
      return { members: new Set(c.ids), quorum: Math.floor(c.ids.length / 2) + 1 };
    }
    if (!c.isUp(id)) return undefined;
    const node = c.node(id);
    const members = new Set(node.peerNames());
    if (!members.has(id) || node.state === "closed") return undefined;
    return { members, quorum: node.quorumNeeded() };
  }

  /**
   * A node's commit index rose: check electability right now, at the moment of commit, when the
   * window of a premature commit is still open. The node's durable record at that index is only a
   * candidate for what was committed (a truncation may still be on its way to storage), so a
   * finding is kept as a suspect and confirmed when the record is applied.
   */
  private onCommit(id: string, from: number, to: number): void {
    const storage = this.c.storage(id);
    for (let i = from + 1; i <= to; i++) {
      if (this.committed[i] !== undefined || this.suspects.has(i)) continue;
      const record = storage.record(i);
      if (record === undefined) continue;
      const detail = this.electableWithout(record);
      if (detail !== undefined) this.suspects.set(i, { ...record, detail });
    }
  }

  onCrash(id: string): void {
    // Only the durable term survives a crash; what was never persisted was never promised.
    this.lastTerm.set(id, this.c.storage(id).hardState.term);
    this.lastApplied.delete(id);
    this.lastCommit.delete(id);
    for (const key of [...this.reads.keys()]) if (key.startsWith(`${id}/`)) this.reads.delete(key);
  }

  /** Highest commit index any node ever reached. */
  highestCommit(): number {
    return this.maxCommit;
  }

  /** Number of distinct terms that had a leader so far. */
  leaderTermCount(): number {
    return this.leaders.size;
  }

  /** Checks after every step: election safety, term and commit monotonic. */
  checkStep(): void {
    const c = this.c;
    for (const id of c.ids) {
      if (!c.isUp(id)) continue;
      const node = c.node(id);
      const term = node.term;
      if (term < (this.lastTerm.get(id) ?? 0)) this.fail("term-decreased", `${id} term ${term}`);
      this.lastTerm.set(id, term);
      const commit = node.progress().commit;
      const previous = this.lastCommit.get(id) ?? 0;
      if (commit < previous) this.fail("commit-decreased", `${id} ${commit}`);
      if (commit > previous) this.onCommit(id, previous, commit);
      if (commit > this.maxCommit) this.maxCommit = commit;
      this.lastCommit.set(id, commit);
      if (node.state === "leader") {
        const other = this.leaders.get(term);
        if (other === undefined) this.leaders.set(term, id);
        else if (other !== id) this.fail("election-safety", `${other} and ${id} lead term ${term}`);
      }
    }
  }
}

function isSnapshot(entry: CommittedEntry): boolean {
  return entry.entries.length === 1 && entry.entries[0]?.type === EntryType.Snapshot;
}
