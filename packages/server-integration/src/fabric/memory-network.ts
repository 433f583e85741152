import { DeliveryQueue } from "./delivery-queue";
import { FabricError } from "./fabric-error";
import { FabricCounters } from "./metrics";
import { createSeededRandom } from "./seeded-random";
import { assertPattern, assertSubject } from "./subject";
import { noopLogger, SubscriptionTable } from "./subscription-table";
import type {
  Fabric,
  FabricHandler,
  FabricLogger,
  FabricMetrics,
  PublishResult,
  RandomFloat,
  Subscription,
} from "./types";

/** Faults applied to messages crossing a link. Probabilities are in `[0, 1]`. */
export interface LinkFaults {
  /** Probability that a copy is lost. */
  readonly dropProbability?: number;
  /** Probability that a copy is delivered twice (each copy gets its own delay). */
  readonly duplicateProbability?: number;
  /** Probability that a copy is held back by `reorderDelayMs` extra, so later ones overtake it. */
  readonly reorderProbability?: number;
  /** Extra delay of a reordered copy, in ms. Default 1. */
  readonly reorderDelayMs?: number;
  /** Delivery delay, uniform over the integers of `[min, max]` ms. Default `[0, 0]`. */
  readonly delayMs?: readonly [number, number];
}

/** Options of {@link createMemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** The only source of randomness of the network. Default: `createSeededRandom(1)`. */
  readonly random?: RandomFloat;
  /**
   * `"manual"` (default): nothing is delivered until the owner calls `deliverDue(now)` or `flush()`;
   * time is whatever the owner says (a simulator's virtual clock). `"timers"`: deliveries run on
   * `setTimeout` against `performance.now()`, for real-time tests.
   */
  readonly delivery?: "manual" | "timers";
  /** Bound on messages queued in the whole network; beyond it publishes are dropped. Default 1e6. */
  readonly maxPending?: number;
  /** Bound on deliveries made by one `deliverDue`/`flush` call, so that handlers that answer
   * every message with another cannot loop forever. Default 1e6. */
  readonly maxDeliveriesPerCall?: number;
  /** Largest payload accepted by `publish`. Default 8 MiB. */
  readonly maxPayloadBytes?: number;
}

/** Counters of the whole network. */
export interface MemoryNetworkStats {
  readonly published: number;
  readonly scheduled: number;
  readonly delivered: number;
  readonly droppedByFault: number;
  readonly droppedByPartition: number;
  readonly droppedQueueFull: number;
  readonly droppedUndeliverable: number;
  readonly duplicated: number;
  readonly reordered: number;
}

/** A fabric created by a {@link MemoryNetwork}. */
export interface MemoryFabric extends Fabric {
  /** The network this fabric belongs to. */
  readonly network: MemoryNetwork;
}

/**
 * An in-memory network connecting many fabrics, one per server name, with fault controls. Every
 * random choice comes from the injected PRNG, and in `"manual"` mode time too is supplied by the
 * owner, so a run is a pure function of the seed and the sequence of calls.
 */
export interface MemoryNetwork {
  /**
   * Creates the fabric of `serverName`. A closed fabric's name may be reused (a restarted server).
   * @throws FabricError `NAME_IN_USE`, `INVALID_SUBJECT` (empty name), `CLOSED`.
   */
  createFabric(serverName: string, options?: { logger?: FabricLogger }): MemoryFabric;
  /**
   * Splits the network: servers in the same group reach each other, no other link works. A server
   * named in no group is isolated. Replaces any previous partition; blocks are kept.
   */
  partition(groups: readonly (readonly string[])[]): void;
  /** Removes the partition and every block. Faults stay. */
  heal(): void;
  /** Cuts the one-way link `from → to` (asymmetric). */
  block(from: string, to: string): void;
  /** Restores the one-way link `from → to`. */
  unblock(from: string, to: string): void;
  /** Sets the faults of link `from → to`, or the default faults of every link without its own. */
  setFaults(faults: LinkFaults, link?: { readonly from: string; readonly to: string }): void;
  /** Removes all faults. */
  clearFaults(): void;
  /**
   * Delivers, in order, every queued copy due at or before `now`, including copies published with
   * no delay by the handlers it runs. Moves the manual clock to `now` (never backwards). Returns
   * the number delivered, at most `maxDeliveriesPerCall`.
   */
  deliverDue(now: number): number;
  /** Delivers everything queued, moving the manual clock forward to each due time. Bounded by
   * `maxDeliveriesPerCall`. Returns the number delivered. */
  flush(): number;
  /** When the earliest queued copy is due, or `undefined` when nothing is queued. */
  nextDueAt(): number | undefined;
  /** Number of queued copies. */
  pending(): number;
  /** The network's current time in ms (manual clock, or `performance.now()` in timers mode). */
  now(): number;
  /** Network counters. */
  stats(): MemoryNetworkStats;
  /** Closes every fabric, drops the queue and cancels timers. */
  close(): void;
}

interface Copy {
  readonly at: number;
  readonly seq: number;
  readonly from: string;
  readonly to: string;
  /** The fabric instance addressed: a restarted server with the same name does not get it. */
  readonly target: MemoryFabricImpl;
  readonly subject: string;
  readonly reply: string | undefined;
  readonly data: Uint8Array;
}

type MutableStats = { -readonly [K in keyof MemoryNetworkStats]: number };

const NO_FAULTS: LinkFaults = Object.freeze({});

/** Creates an in-memory network. See {@link MemoryNetwork}. */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  return new MemoryNetworkImpl(options);
}

class MemoryNetworkImpl implements MemoryNetwork {
  private readonly random: RandomFloat;
  private readonly timers: boolean;
  private readonly maxPending: number;
  private readonly maxDeliveries: number;
  readonly maxPayloadBytes: number;
  private readonly origin = performance.now();
  private readonly fabrics = new Map<string, MemoryFabricImpl>();
  private readonly queue = new DeliveryQueue<Copy>();
  private readonly blocked = new Set<string>();
  private readonly linkFaults = new Map<string, LinkFaults>();
  private groups: Map<string, number> | undefined;
  private defaultFaults: LinkFaults = NO_FAULTS;
  private manualNow = 0;
  private seq = 0;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly counts: MutableStats = {
    published: 0,
    scheduled: 0,
    delivered: 0,
    droppedByFault: 0,
    droppedByPartition: 0,
    droppedQueueFull: 0,
    droppedUndeliverable: 0,
    duplicated: 0,
    reordered: 0,
  };

  constructor(options: MemoryNetworkOptions) {
    this.random = options.random ?? createSeededRandom(1);
    this.timers = options.delivery === "timers";
    this.maxPending = options.maxPending ?? 1_000_000;
    this.maxDeliveries = options.maxDeliveriesPerCall ?? 1_000_000;
    this.maxPayloadBytes = options.maxPayloadBytes ?? 8 * 1024 * 1024;
  }

  createFabric(serverName: string, options: { logger?: FabricLogger } = {}): MemoryFabric {
    if (this.closed) throw new FabricError("CLOSED", "memory network is closed");
    if (serverName.length === 0) throw new FabricError("INVALID_SUBJECT", "empty server name");
    if (this.fabrics.has(serverName)) {
      throw new FabricError("NAME_IN_USE", `server ${serverName} already has a live fabric`);
    }
    const fabric = new MemoryFabricImpl(this, serverName, options.logger ?? noopLogger);
    this.fabrics.set(serverName, fabric);
    return fabric;
  }

  partition(groups: readonly (readonly string[])[]): void {
    const map = new Map<string, number>();
    groups.forEach((group, index) => {
      for (const name of group) map.set(name, index);
    });
    this.groups = map;
  }

  heal(): void {
    this.groups = undefined;
    this.blocked.clear();
  }

  block(from: string, to: string): void {
    this.blocked.add(linkKey(from, to));
  }

  unblock(from: string, to: string): void {
    this.blocked.delete(linkKey(from, to));
  }

  setFaults(faults: LinkFaults, link?: { readonly from: string; readonly to: string }): void {
    validateFaults(faults);
    if (link === undefined) this.defaultFaults = faults;
    else this.linkFaults.set(linkKey(link.from, link.to), faults);
  }

  clearFaults(): void {
    this.defaultFaults = NO_FAULTS;
    this.linkFaults.clear();
  }

  now(): number {
    return this.timers ? performance.now() - this.origin : this.manualNow;
  }

  pending(): number {
    return this.queue.size;
  }

  nextDueAt(): number | undefined {
    return this.queue.peek()?.at;
  }

  stats(): MemoryNetworkStats {
    return Object.freeze({ ...this.counts });
  }

  deliverDue(now: number): number {
    if (now > this.manualNow) this.manualNow = now;
    let delivered = 0;
    while (delivered < this.maxDeliveries) {
      const head = this.queue.peek();
      if (head === undefined || head.at > now) break;
      this.queue.pop();
      if (this.deliver(head)) delivered++;
    }
    this.armTimer();
    return delivered;
  }

  flush(): number {
    let delivered = 0;
    while (delivered < this.maxDeliveries) {
      const head = this.queue.peek();
      if (head === undefined) break;
      if (head.at > this.manualNow) this.manualNow = head.at;
      this.queue.pop();
      if (this.deliver(head)) delivered++;
    }
    this.armTimer();
    return delivered;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fabric of [...this.fabrics.values()]) fabric.closeNow();
    this.queue.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Called by a fabric's `publish`; returns what happened from the sender's point of view. */
  send(from: string, subject: string, reply: string | undefined, data: Uint8Array): PublishResult {
    this.counts.published++;
    let sent = 0;
    let dropped = 0;
    let copy: Uint8Array | undefined;
    for (const target of this.fabrics.values()) {
      if (target.serverName === from || !target.wants(subject)) continue;
      // One copy per publish, shared by all targets: the sender may reuse its buffer at once.
      copy ??= data.slice();
      if (this.queue.size >= this.maxPending) {
        this.counts.droppedQueueFull++;
        dropped++;
        continue;
      }
      sent++;
      this.transmit(from, target, subject, reply, copy);
    }
    this.armTimer();
    return { sent, dropped };
  }

  /** How many other live fabrics `from` can currently send to: its "connections". */
  reachableFrom(from: string): number {
    let n = 0;
    for (const name of this.fabrics.keys()) if (name !== from && !this.isCut(from, name)) n++;
    return n;
  }

  /** Forgets a closed fabric so its name can be reused. */
  detach(fabric: MemoryFabricImpl): void {
    if (this.fabrics.get(fabric.serverName) === fabric) this.fabrics.delete(fabric.serverName);
  }

  private transmit(
    from: string,
    target: MemoryFabricImpl,
    subject: string,
    reply: string | undefined,
    data: Uint8Array,
  ): void {
    const to = target.serverName;
    if (this.isCut(from, to)) {
      this.counts.droppedByPartition++;
      return;
    }
    const faults = this.linkFaults.get(linkKey(from, to)) ?? this.defaultFaults;
    if (this.chance(faults.dropProbability)) {
      this.counts.droppedByFault++;
      return;
    }
    const copies = this.chance(faults.duplicateProbability) ? 2 : 1;
    if (copies === 2) this.counts.duplicated++;
    for (let i = 0; i < copies; i++) {
      let at = this.now() + this.sampleDelay(faults.delayMs);
      if (this.chance(faults.reorderProbability)) {
        this.counts.reordered++;
        at += faults.reorderDelayMs ?? 1;
      }
      this.queue.push({ at, seq: this.seq++, from, to, target, subject, reply, data });
      this.counts.scheduled++;
    }
  }

  private deliver(copy: Copy): boolean {
    // A link cut while the copy was in flight loses it, as pulling a cable would.
    if (this.isCut(copy.from, copy.to)) {
      this.counts.droppedByPartition++;
      return false;
    }
    const target = copy.target;
    if (this.fabrics.get(copy.to) !== target) {
      this.counts.droppedUndeliverable++;
      return false;
    }
    this.counts.delivered++;
    target.receive(copy.subject, copy.reply, copy.data);
    return true;
  }

  private isCut(from: string, to: string): boolean {
    if (this.blocked.has(linkKey(from, to))) return true;
    if (this.groups === undefined) return false;
    const a = this.groups.get(from);
    const b = this.groups.get(to);
    return a === undefined || b === undefined || a !== b;
  }

  private chance(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.random() < p;
  }

  private sampleDelay(range: readonly [number, number] | undefined): number {
    if (range === undefined) return 0;
    const [min, max] = range;
    if (max <= min) return min;
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private armTimer(): void {
    if (!this.timers || this.closed) return;
    const next = this.queue.peek()?.at;
    if (next === undefined || next >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.deliverDue(this.now());
      },
      Math.max(0, next - this.now()),
    );
  }
}

class MemoryFabricImpl implements MemoryFabric {
  readonly serverName: string;
  readonly network: MemoryNetwork;
  private readonly owner: MemoryNetworkImpl;
  private readonly counters = new FabricCounters();
  private readonly table: SubscriptionTable;
  private closed = false;

  constructor(owner: MemoryNetworkImpl, serverName: string, logger: FabricLogger) {
    this.owner = owner;
    this.network = owner;
    this.serverName = serverName;
    this.table = new SubscriptionTable(this.counters, logger);
  }

  publish(subject: string, reply: string | undefined, data: Uint8Array): PublishResult {
    if (this.closed) throw new FabricError("CLOSED", `fabric of ${this.serverName} is closed`);
    assertSubject(subject, "publish");
    const replyTo = reply === "" ? undefined : reply;
    if (replyTo !== undefined) assertSubject(replyTo, "reply");
    if (data.length > this.owner.maxPayloadBytes) {
      throw new FabricError(
        "PAYLOAD_TOO_LARGE",
        `payload of ${data.length} bytes exceeds ${this.owner.maxPayloadBytes}`,
      );
    }
    const result = this.owner.send(this.serverName, subject, replyTo, data);
    this.counters.messagesOut += result.sent;
    this.counters.bytesOut += result.sent * data.length;
    this.counters.messagesDropped += result.dropped;
    return result;
  }

  subscribe(subject: string, handler: FabricHandler): Subscription {
    if (this.closed) throw new FabricError("CLOSED", `fabric of ${this.serverName} is closed`);
    assertPattern(subject);
    const { id } = this.table.add(subject, handler);
    return { subject, unsubscribe: () => void this.table.remove(id) };
  }

  metrics(): FabricMetrics {
    return this.counters.snapshot(this.owner.reachableFrom(this.serverName));
  }

  close(): Promise<void> {
    this.closeNow();
    return Promise.resolve();
  }

  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.table.clear();
    this.owner.detach(this);
  }

  wants(subject: string): boolean {
    return !this.closed && this.table.hasMatch(subject);
  }

  receive(subject: string, reply: string | undefined, data: Uint8Array): void {
    this.counters.messagesIn++;
    this.counters.bytesIn += data.length;
    this.table.deliver(reply === undefined ? { subject, data } : { subject, reply, data });
  }
}

function linkKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

function validateFaults(faults: LinkFaults): void {
  for (const p of [
    faults.dropProbability,
    faults.duplicateProbability,
    faults.reorderProbability,
  ]) {
    if (p !== undefined && !(p >= 0 && p <= 1))
      throw new RangeError(`probability ${p} not in [0, 1]`);
  }
  const range = faults.delayMs;
  if (range !== undefined && !(range[0] >= 0 && range[1] >= range[0])) {
    throw new RangeError(`delay range [${range[0]}, ${range[1]}] is invalid`);
  }
}
