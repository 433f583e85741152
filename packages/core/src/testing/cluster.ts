import { decodePeerState, type Entry, EntryType } from "@raft/codec";
import { createRaftNode } from "../node";
import type {
  CommittedEntry,
  LogRecord,
  OutboundMessage,
  RaftNode,
  RaftTiming,
  ReadState,
  Ready,
  SnapshotResult,
  UnsafeTestingFaults,
} from "../types";
import { MemoryStorage } from "./memory-storage";
import { Prng } from "./prng";

/** One message on the simulated network, addressed to one node. */
export interface Envelope {
  readonly seq: number;
  readonly from: string;
  readonly to: string;
  readonly message: OutboundMessage;
}

/** Hooks the cluster calls while it works; the checker and the golden transcripts use them. */
export interface ClusterObserver {
  /** A message leaves `from` (before fan-out). `persisted` tells whether its Ready was persisted. */
  onSend?(from: string, message: OutboundMessage, to: readonly string[]): void;
  /** `id` persisted the parts of `ready`; `dropped` are the records its truncation removed. */
  onPersist?(id: string, ready: Ready, dropped: readonly LogRecord[]): void;
  /** `id` applied one committed index. */
  onApply?(id: string, entry: CommittedEntry): void;
  /** `id` crashed: everything not persisted is gone. */
  onCrash?(id: string): void;
  /** `id` confirmed or failed read barriers (`Ready.reads`). */
  onReads?(id: string, reads: readonly ReadState[]): void;
}

/** Options of {@link Cluster}. */
export interface ClusterOptions {
  /** Node ids, 8 characters each. */
  readonly ids: readonly string[];
  readonly group?: string;
  readonly seed?: number;
  readonly timing?: RaftTiming;
  readonly faults?: UnsafeTestingFaults;
  readonly observer?: ClusterObserver;
  /** Give nodes the encoded bytes as well as the decoded frame (default true). */
  readonly deliverBytes?: boolean;
  /**
   * Give nodes the decoded frame (default true). With `false` every node decodes the bytes it
   * receives with `@raft/codec`, as behind a real transport.
   */
  readonly deliverFrames?: boolean;
  /**
   * The initial members (default: every id). Other ids start outside the group, knowing the
   * members, and join when a leader adds them. A restarted node starts from its persisted peer
   * state when it has one.
   */
  readonly members?: readonly string[];
  /** Groups are managed by default (see `RaftNodeOptions.managed`). */
  readonly managed?: boolean;
  /** Keep every applied entry in `appliedLog` (default true); benchmarks turn it off. */
  readonly retainApplied?: boolean;
}

/** The timing nats-server's own tests use (spec §4, "Tests override"). */
export const TEST_TIMING: RaftTiming = {
  electionTimeoutMinMs: 1_500,
  electionTimeoutMaxMs: 3_500,
  heartbeatIntervalMs: 50,
  lostQuorumIntervalMs: 5_000,
  lostQuorumCheckMs: 200,
};

/** The 8-character id of node `n` in harness clusters: `n1xxxxxx`, `n2xxxxxx`, … */
export function nodeId(n: number): string {
  return `n${n}`.padEnd(8, "x");
}

/**
 * An in-memory cluster: nodes, their {@link MemoryStorage}, a network whose messages you deliver,
 * drop, duplicate or reorder one by one, and a virtual clock. Ready batches are handled exactly as
 * the contract says (send early messages, persist, send the rest, apply, advance), so a node only
 * keeps what it persisted when it is crashed and restarted. Pure: no timers, no IO.
 */
export class Cluster {
  readonly ids: readonly string[];
  readonly group: string;
  now = 0;
  /** In-flight messages, oldest first. */
  network: Envelope[] = [];
  private seq = 0;
  private readonly nodes = new Map<string, RaftNode>();
  private readonly storages = new Map<string, MemoryStorage>();
  private readonly subscriptions = new Map<string, Set<string>>();
  /** Applied entries per node in order, reset when the node restarts. */
  readonly appliedLog: Map<string, CommittedEntry[]> = new Map();
  private readonly down = new Set<string>();
  /** Digest of each node's applied state (see {@link Cluster.digest}). */
  private readonly digests = new Map<string, number>();
  /** Partition groups: nodes in different groups cannot talk. Empty: fully connected. */
  private partitionOf = new Map<string, number>();
  private readonly prng: Prng;
  private readonly options: ClusterOptions;
  private restarts = 0;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.ids = options.ids;
    this.group = options.group ?? "G";
    this.prng = new Prng(options.seed ?? 1);
    for (const id of this.ids) {
      this.storages.set(id, new MemoryStorage());
      this.start(id);
    }
  }

  /** The live node `id` (throws when it is down). */
  node(id: string): RaftNode {
    const n = this.nodes.get(id);
    if (n === undefined || this.down.has(id)) throw new Error(`node ${id} is down`);
    return n;
  }

  /** The durable storage of `id`. */
  storage(id: string): MemoryStorage {
    const s = this.storages.get(id);
    if (s === undefined) throw new Error(`unknown node ${id}`);
    return s;
  }

  isUp(id: string): boolean {
    return !this.down.has(id);
  }

  private start(id: string): void {
    const storage = this.storage(id);
    const persisted =
      storage.peerState === undefined ? undefined : decodePeerState(storage.peerState);
    const node = createRaftNode({
      id,
      group: this.group,
      peers: persisted?.peers ?? this.options.members ?? this.ids,
      ...(persisted !== undefined ? { clusterSize: persisted.clusterSize } : {}),
      ...(this.options.managed !== undefined ? { managed: this.options.managed } : {}),
      now: this.now,
      timing: this.options.timing ?? TEST_TIMING,
      random: new Prng(this.prng.nextUint32() ^ ++this.restarts),
      log: storage,
      hardState: storage.hardState,
      ...(storage.snapshot !== undefined ? { snapshot: storage.snapshot } : {}),
      damaged: storage.damagedRecords(),
      ...(storage.lostTail !== undefined ? { lostTail: storage.lostTail } : {}),
      ...(this.options.faults !== undefined ? { unsafeTestingFaults: this.options.faults } : {}),
    });
    this.nodes.set(id, node);
    this.appliedLog.set(id, []);
    this.digests.set(id, FNV_OFFSET);
    const s = node.subjects;
    for (const subject of [s.vote, s.appendEntry, s.voteReply, s.appendEntryReply]) {
      this.subscribe(id, subject);
    }
  }

  private subscribe(id: string, subject: string): void {
    let set = this.subscriptions.get(subject);
    if (set === undefined) {
      set = new Set();
      this.subscriptions.set(subject, set);
    }
    set.add(id);
  }

  private unsubscribe(id: string, subject: string): void {
    this.subscriptions.get(subject)?.delete(id);
  }

  /** The nodes currently subscribed to `subject`. */
  subscribers(subject: string): string[] {
    return [...(this.subscriptions.get(subject) ?? [])];
  }

  private dropSubscriptions(id: string): void {
    for (const set of this.subscriptions.values()) set.delete(id);
  }

  /** Crash `id`: the node and its unpersisted state are gone; its messages in flight stay. */
  crash(id: string): void {
    if (this.down.has(id)) return;
    this.down.add(id);
    this.nodes.delete(id);
    this.dropSubscriptions(id);
    this.options.observer?.onCrash?.(id);
  }

  /** Restart a crashed node from its storage. */
  restart(id: string): void {
    if (!this.down.has(id)) return;
    this.down.delete(id);
    this.start(id);
  }

  /** Split the cluster: each inner array is one side; unlisted nodes form their own side. */
  partition(groups: readonly (readonly string[])[]): void {
    this.partitionOf = new Map();
    groups.forEach((g, i) => {
      for (const id of g) this.partitionOf.set(id, i);
    });
  }

  heal(): void {
    this.partitionOf = new Map();
  }

  /** True when `a` and `b` can currently talk. */
  connected(a: string, b: string): boolean {
    if (this.partitionOf.size === 0) return true;
    return (
      (this.partitionOf.get(a) ?? -1 - this.ids.indexOf(a)) ===
      (this.partitionOf.get(b) ?? -1 - this.ids.indexOf(b))
    );
  }

  /** Advance virtual time by `ms` and tick every live node. */
  advanceTime(ms: number): void {
    this.now += ms;
    for (const [id, node] of this.nodes) if (!this.down.has(id)) node.tick(this.now);
  }

  /**
   * Handle one Ready of `id` as the contract says. With `crashBeforePersist`, the node crashes
   * after sending its early messages and before persisting (what a power cut would do).
   * Returns false when the node had nothing ready.
   */
  processReady(id: string, crashBeforePersist = false): boolean {
    const node = this.nodes.get(id);
    if (node === undefined || this.down.has(id) || !node.hasReady()) return false;
    const ready = node.ready();
    for (const m of ready.messages) if (!m.afterPersist) this.publish(id, m);
    if (crashBeforePersist) {
      this.crash(id);
      return true;
    }
    const dropped = this.storage(id).persist(ready);
    this.options.observer?.onPersist?.(id, ready, dropped);
    for (const m of ready.messages) if (m.afterPersist) this.publish(id, m);
    for (const s of ready.subscribe) this.subscribe(id, s);
    for (const s of ready.unsubscribe) this.unsubscribe(id, s);
    const applied = this.appliedLog.get(id) ?? [];
    const retain = this.options.retainApplied !== false;
    for (const c of ready.committed) {
      if (retain) applied.push(c);
      this.digests.set(id, applyDigest(this.digests.get(id) ?? FNV_OFFSET, c));
      this.options.observer?.onApply?.(id, c);
    }
    if (ready.reads.length > 0) this.options.observer?.onReads?.(id, ready.reads);
    node.advance(ready);
    const last = ready.committed[ready.committed.length - 1];
    if (last !== undefined) node.applied(last.index);
    return true;
  }

  private publish(from: string, message: OutboundMessage): void {
    const subs = this.subscriptions.get(message.subject);
    const to: string[] = [];
    if (subs !== undefined) for (const id of subs) if (id !== from) to.push(id);
    this.options.observer?.onSend?.(from, message, to);
    for (const id of to) this.network.push({ seq: this.seq++, from, to: id, message });
  }

  /** Deliver the in-flight message at `position` (dropped if the two sides are partitioned). */
  deliver(position = 0): Envelope | undefined {
    const env = this.network[position];
    if (env === undefined) return undefined;
    this.network.splice(position, 1);
    const node = this.nodes.get(env.to);
    if (node === undefined || this.down.has(env.to) || !this.connected(env.from, env.to)) {
      return env;
    }
    const m = env.message;
    node.step({
      subject: m.subject,
      reply: m.reply,
      ...(this.options.deliverFrames === false ? {} : { frame: m.frame }),
      ...(this.options.deliverBytes === false ? {} : { bytes: m.data }),
    });
    return env;
  }

  /** Drop the in-flight message at `position`. */
  drop(position: number): void {
    this.network.splice(position, 1);
  }

  /** Duplicate the in-flight message at `position` (the copy goes to the end). */
  duplicate(position: number): void {
    const env = this.network[position];
    if (env !== undefined) this.network.push({ ...env, seq: this.seq++ });
  }

  /**
   * Process every Ready and deliver every message until nothing is left, without advancing time.
   * Bounded by `maxRounds`; returns the number of rounds used.
   */
  stabilize(maxRounds = 10_000): number {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const id of this.ids) while (this.processReady(id)) busy = true;
      while (this.network.length > 0) {
        this.deliver(0);
        busy = true;
      }
      if (!busy) return round;
    }
    throw new Error(`cluster did not stabilize in ${maxRounds} rounds`);
  }

  /** The live leader with the highest term, if any. */
  leader(): RaftNode | undefined {
    let best: RaftNode | undefined;
    for (const [id, n] of this.nodes) {
      if (this.down.has(id) || n.state !== "leader") continue;
      if (best === undefined || n.term > best.term) best = n;
    }
    return best;
  }

  /**
   * A digest of the state `id` applied since it started: a chained FNV-1a hash over every applied
   * entry, replaced by the snapshot's digest when a snapshot is applied. Equal digests at equal
   * applied indexes mean equal states.
   */
  digest(id: string): number {
    return this.digests.get(id) ?? FNV_OFFSET;
  }

  /**
   * The upper layer of `id` snapshots its state: the snapshot data is its {@link Cluster.digest}
   * (4 bytes, little-endian), handed to `installSnapshot`.
   */
  snapshot(id: string): SnapshotResult {
    return this.node(id).installSnapshot(digestBytes(this.digest(id)));
  }

  /** Normal-entry payloads applied by `id`, in order. */
  appliedData(id: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const c of this.appliedLog.get(id) ?? [])
      for (const e of c.entries as Entry[]) out.push(e.data);
    return out;
  }
}

const FNV_OFFSET = 0x811c9dc5;

function fnv(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193) >>> 0;
}

/** The digest after applying `c`: a snapshot replaces the state, other entries extend it. */
function applyDigest(digest: number, c: CommittedEntry): number {
  const [first] = c.entries;
  if (c.entries.length === 1 && first?.type === EntryType.Snapshot && first.data.length === 4) {
    const d = first.data;
    return ((d[0] ?? 0) | ((d[1] ?? 0) << 8) | ((d[2] ?? 0) << 16) | ((d[3] ?? 0) << 24)) >>> 0;
  }
  let h = digest;
  for (const e of c.entries) {
    h = fnv(h, e.type);
    for (const b of e.data) h = fnv(h, b);
    h = fnv(h, 0xff);
  }
  return h;
}

function digestBytes(digest: number): Uint8Array {
  return Uint8Array.of(digest & 0xff, (digest >>> 8) & 0xff, (digest >>> 16) & 0xff, digest >>> 24);
}
