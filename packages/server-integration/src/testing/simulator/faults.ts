import type { FaultyDisk } from "@raft/wal/testing";
import type { MemoryNetwork } from "../../fabric/memory-network";
import type { SimHost } from "./sim-host";
import type { SimNode } from "./sim-node";
import { SimRandom } from "./sim-random";

/**
 * Which faults the safety phase injects. Every kind defaults to on; each run then draws its own
 * intensities from the seed (how often faults come, loss rates, durations), as FoundationDB's
 * BUGGIFY varies them per run.
 */
export interface SimFaultOptions {
  /** Message loss, duplication, reordering and delay on every link. */
  readonly network?: boolean;
  /** Symmetric partitions (one node isolated, majority/minority), one-way blocks, swizzle-clog. */
  readonly partitions?: boolean;
  /** Power loss (unsynced writes lost, last write torn), process crash, whole-cluster power loss. */
  readonly crashes?: boolean;
  /** A process stops processing anything for a while, then resumes. */
  readonly pauses?: boolean;
  /** A node's monotonic clock jumps forward. */
  readonly clockJumps?: boolean;
  /** Bit flips (while the node is down) and misdirected writes, on at most f nodes ever. */
  readonly corruption?: boolean;
  /** Writes fail with ENOSPC for a while, on one node. */
  readonly diskFull?: boolean;
  /** A node's fsyncs take 20–300 ms for a while (a slow or busy device). */
  readonly slowDisk?: boolean;
}

/** Every fault kind the simulator injects, as counted in the result. */
export type FaultKind =
  | "link-faults"
  | "partition"
  | "one-way"
  | "clog"
  | "power-loss"
  | "process-crash"
  | "power-loss-all"
  | "power-loss-inflight"
  | "vote-power-loss"
  | "pause"
  | "clock-jump"
  | "bit-flip"
  | "misdirect"
  | "disk-full"
  | "slow-disk";

interface NemesisContext {
  readonly host: SimHost;
  readonly network: MemoryNetwork;
  readonly nodes: readonly SimNode[];
  readonly random: SimRandom;
  readonly faults: Required<SimFaultOptions>;
  /** Boots a dead node after `delayMs`, retrying failed boots. */
  readonly restartLater: (node: SimNode, delayMs: number) => void;
}

/**
 * The fault schedule ("nemesis") of the safety phase. One network episode at a time (partition,
 * one-way blocks or a clog sequence), each ended by its own heal; node faults (crash, pause, clock
 * jump, corruption, disk full) come independently. `healAll` ends everything for the liveness
 * phase.
 */
export class Nemesis {
  readonly counts: Record<string, number> = {};
  readonly #c: NemesisContext;
  readonly #random: SimRandom;
  readonly #menu: FaultKind[] = [];
  readonly #meanGapMs: number;
  #active = false;
  /** Bumped on every network episode and heal, so that a stale episode end does nothing. */
  #episode = 0;
  #networkBusy = false;
  readonly #diskFullNode: SimNode | undefined;

  constructor(context: NemesisContext) {
    this.#c = context;
    const r = context.random;
    this.#random = r;
    const f = context.faults;
    if (f.partitions) this.#menu.push("partition", "one-way", "clog");
    if (f.crashes)
      this.#menu.push(
        "power-loss",
        "power-loss",
        "process-crash",
        "power-loss-all",
        "power-loss-inflight",
      );
    if (f.pauses) this.#menu.push("pause");
    if (f.clockJumps) this.#menu.push("clock-jump");
    if (f.corruption) this.#menu.push("bit-flip", "misdirect");
    if (f.diskFull) this.#menu.push("disk-full");
    if (f.slowDisk) this.#menu.push("slow-disk");
    // Per-run intensity: a fault every 150 ms .. 2 s on average.
    this.#meanGapMs = r.between(150, 2000);
    const nodes = context.nodes;
    const maxDamaged = Math.floor((nodes.length - 1) / 2);
    if (f.corruption) {
      // At most f nodes are ever damaged, so a good copy of every committed entry survives.
      for (const n of r.shuffle(nodes).slice(0, r.between(1, maxDamaged))) n.damageable = true;
    }
    this.#diskFullNode = f.diskFull ? r.pick(nodes) : undefined;
  }

  /**
   * Protocol-aware fault: sometimes a node that just granted a vote loses power at once, and its
   * link from the candidate stays cut for a while. Harmless when votes are durable before they are
   * sent (Raft's rule); with a lost vote the voter may grant the same term again after restart.
   */
  voteGranted(voter: string, candidate: string, term: number): void {
    if (!this.#active || !this.#c.faults.crashes) return;
    const r = this.#random;
    if (!r.chance(0.2)) return;
    const node = this.#c.nodes.find((n) => n.name === voter);
    if (node === undefined || !node.alive()) return;
    node.kill(true);
    this.#count("vote-power-loss");
    this.#log(voter, `power-loss right after granting ${candidate} a vote in term ${term}`);
    const network = this.#c.network;
    network.block(candidate, voter);
    this.#at(r.between(300, 2000), "-", () => network.unblock(candidate, voter));
    this.#c.restartLater(node, r.between(20, 300));
  }

  /** Sets this run's link faults and starts the schedule. */
  start(): void {
    this.#active = true;
    const r = this.#random;
    if (this.#c.faults.network) {
      // Each directed link gets its own latency. Latency is fixed per link so that a link is FIFO
      // like the TCP route NATS uses; reordering is a fault of its own (a held-back copy).
      const drop = r.chance(0.3) ? 0 : r.next() * 0.08;
      const duplicate = r.next() * 0.05;
      const reorder = r.next() * 0.1;
      const names = this.#c.nodes.map((n) => n.name);
      for (const [from, to] of directedLinks(names)) {
        const latency = r.between(1, 12);
        this.#c.network.setFaults(
          {
            dropProbability: drop,
            duplicateProbability: duplicate,
            reorderProbability: reorder,
            reorderDelayMs: r.between(1, 20),
            delayMs: [latency, latency],
          },
          { from, to },
        );
      }
      this.#count("link-faults");
    }
    this.#scheduleNext();
  }

  /** Ends every fault: heals the network, resumes and restarts every node, frees the disk. */
  healAll(): void {
    this.#active = false;
    this.#episode++;
    this.#networkBusy = false;
    const { network, nodes, host } = this.#c;
    network.heal();
    network.clearFaults();
    network.setFaults({ delayMs: [1, 1] });
    for (const node of nodes) {
      node.setDiskFull(false);
      node.setSlowDisk(false);
      node.resume();
      if (!node.alive()) this.#c.restartLater(node, 0);
    }
    host.trace.write(host.scheduler.now, "-", "heal", "every fault healed");
  }

  #count(kind: FaultKind): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  #scheduleNext(): void {
    const r = this.#random;
    const gap = r.between(1, 2 * this.#meanGapMs);
    this.#at(gap, "-", () => {
      if (!this.#active) return;
      if (this.#menu.length > 0) this.#inject(r.pick(this.#menu));
      this.#scheduleNext();
    });
  }

  #at(delayMs: number, node: string, run: () => void): void {
    const s = this.#c.host.scheduler;
    s.schedule(s.now + delayMs, node, "fault", () => {
      run();
      return true;
    });
  }

  #log(node: string, what: string): void {
    const h = this.#c.host;
    h.trace.write(h.scheduler.now, node, "fault", what);
  }

  #inject(kind: FaultKind): void {
    const r = this.#random;
    const { nodes, network } = this.#c;
    const names = nodes.map((n) => n.name);
    switch (kind) {
      case "partition": {
        if (this.#networkBusy) return;
        const shuffled = r.shuffle(names);
        const cut = r.chance(0.5) ? 1 : r.between(1, Math.floor(names.length / 2));
        const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
        network.partition(groups);
        this.#episode_(kind, `partition ${groups.map((g) => `[${g.join(",")}]`).join(" ")}`);
        return;
      }
      case "one-way": {
        if (this.#networkBusy) return;
        const links = r.shuffle(directedLinks(names)).slice(0, r.between(1, names.length));
        for (const [from, to] of links) network.block(from, to);
        this.#episode_(kind, `one-way blocks ${links.map(([a, b]) => `${a}->${b}`).join(" ")}`);
        return;
      }
      case "clog": {
        if (this.#networkBusy) return;
        // Swizzle-clog (FoundationDB): clog links one by one, then unclog them in random order.
        const links = r.shuffle(directedLinks(names)).slice(0, r.between(2, names.length * 2));
        const episode = this.#beginEpisode(kind, `clog ${links.length} links`);
        let at = 0;
        for (const [from, to] of links) {
          at += r.between(20, 300);
          this.#at(at, "-", () => {
            if (this.#episode !== episode) return;
            network.block(from, to);
            this.#log("-", `clog ${from}->${to}`);
          });
        }
        for (const [from, to] of r.shuffle(links)) {
          at += r.between(20, 500);
          this.#at(at, "-", () => {
            if (this.#episode !== episode) return;
            network.unblock(from, to);
            this.#log("-", `unclog ${from}->${to}`);
          });
        }
        this.#at(at + 1, "-", () => {
          if (this.#episode === episode) this.#networkBusy = false;
        });
        return;
      }
      case "power-loss":
      case "process-crash": {
        const node = r.pick(nodes);
        if (!node.alive()) return;
        node.kill(kind === "power-loss");
        this.#count(kind);
        this.#log(node.name, kind);
        this.#c.restartLater(node, r.between(20, 3000));
        return;
      }
      case "power-loss-all": {
        this.#count(kind);
        this.#log("-", "power loss of every node within 200 ms");
        for (const node of nodes) {
          this.#at(r.between(0, 200), node.name, () => {
            if (!node.alive()) return;
            node.kill(true);
            this.#log(node.name, "power-loss");
            this.#c.restartLater(node, r.between(50, 2000));
          });
        }
        return;
      }
      case "power-loss-inflight": {
        // Targeted (BUGGIFY-style): cut power exactly where it hurts, on every node with an fsync
        // in flight, i.e. holding written but not yet durable bytes.
        const victims = nodes.filter((n) => n.alive() && n.unsyncedWrites() > 0);
        if (victims.length === 0) return;
        this.#count(kind);
        for (const node of victims) {
          node.kill(true);
          this.#log(node.name, "power-loss with an fsync in flight");
          this.#c.restartLater(node, r.between(20, 1000));
        }
        return;
      }
      case "pause": {
        const node = r.pick(nodes);
        if (!node.alive() || node.paused()) return;
        node.pause();
        this.#count(kind);
        const ms = r.between(100, 4000);
        this.#log(node.name, `pause ${ms} ms`);
        this.#at(ms, node.name, () => {
          if (!node.paused()) return;
          this.#log(node.name, "resume");
          node.resume();
        });
        return;
      }
      case "clock-jump": {
        const node = r.pick(nodes);
        const ms = r.between(100, 5000);
        node.jumpClock(ms);
        this.#count(kind);
        this.#log(node.name, `clock jumps +${ms} ms`);
        return;
      }
      case "bit-flip": {
        const node = r.pick(nodes.filter((n) => n.damageable));
        if (node === undefined || !node.alive()) return;
        // Files are damaged while the node is down (as Jepsen does), then it restarts on them.
        node.kill(true);
        this.#count(kind);
        const count = r.between(1, 3);
        const seed = r.u32();
        // The listing resolves in microtasks, long before the restart (≥ 50 ms later).
        void flipBits(node, new SimRandom(seed), count).then((flips) => {
          this.#log(node.name, `bit flips while down: ${flips.join(", ") || "no file"}`);
        });
        this.#log(node.name, "power-loss (to damage its files)");
        this.#c.restartLater(node, r.between(50, 1000));
        return;
      }
      case "misdirect": {
        const node = r.pick(nodes.filter((n) => n.damageable));
        if (node === undefined || !node.alive()) return;
        node.disk.misdirectNext();
        this.#count(kind);
        this.#log(node.name, "next write misdirected");
        return;
      }
      case "disk-full": {
        const node = this.#diskFullNode;
        if (node === undefined || node.diskFull()) return;
        node.setDiskFull(true);
        this.#count(kind);
        const ms = r.between(100, 2000);
        this.#log(node.name, `disk full for ${ms} ms`);
        this.#at(ms, node.name, () => {
          node.setDiskFull(false);
          this.#log(node.name, "disk space freed");
        });
        return;
      }
      case "slow-disk": {
        const node = r.pick(nodes);
        if (node.slowDisk()) return;
        node.setSlowDisk(true);
        this.#count(kind);
        const ms = r.between(500, 5000);
        this.#log(node.name, `slow disk for ${ms} ms`);
        this.#at(ms, node.name, () => {
          node.setSlowDisk(false);
          this.#log(node.name, "disk fast again");
        });
        return;
      }
      case "link-faults":
        return;
    }
  }

  /** Starts a network episode that heals itself after a random duration. */
  #episode_(kind: FaultKind, what: string): void {
    const episode = this.#beginEpisode(kind, what);
    const ms = this.#random.between(100, 3000);
    this.#at(ms, "-", () => {
      if (this.#episode !== episode) return;
      this.#c.network.heal();
      this.#networkBusy = false;
      this.#log("-", `${kind} healed`);
    });
  }

  #beginEpisode(kind: FaultKind, what: string): number {
    this.#networkBusy = true;
    this.#count(kind);
    this.#log("-", what);
    return ++this.#episode;
  }
}

function directedLinks(names: readonly string[]): [string, string][] {
  const links: [string, string][] = [];
  for (const a of names) for (const b of names) if (a !== b) links.push([a, b]);
  return links;
}

/**
 * Flips bits in random files of a node's data directory; returns `path@offset` of each flip. Half
 * of the flips aim at the last 64 bytes of a group's newest log segment: the last synced records,
 * whose damage looks like a torn write (the durable mark tells them apart, ADR 0006), and which a
 * uniformly random offset would almost never hit.
 */
async function flipBits(node: SimNode, random: SimRandom, count: number): Promise<string[]> {
  const files = await dataFiles(node.disk, `/data/${node.name}`);
  const tails = newestSegments(files);
  const flips: string[] = [];
  for (let i = 0; i < count && files.length > 0; i++) {
    const tail = tails.length > 0 && random.chance(0.5);
    const path = tail ? random.pick(tails) : random.pick(files);
    const size = node.disk.peek(path)?.length ?? 0;
    if (size === 0) continue;
    const from = tail ? Math.max(0, size - 64) : 0;
    const offset = node.disk.flipBit(path, from + random.int(size - from), random.int(8));
    flips.push(`${path}@${offset}`);
  }
  return flips;
}

/** The newest segment file (highest name) of every log directory among `files` (sorted paths). */
function newestSegments(files: readonly string[]): string[] {
  const newest = new Map<string, string>();
  for (const path of files) {
    if (!path.endsWith(".seg")) continue;
    newest.set(path.slice(0, path.lastIndexOf("/")), path);
  }
  return [...newest.values()];
}

/** Every non-empty file under `dir`, sorted; directories are what `peek` does not know. */
async function dataFiles(disk: FaultyDisk, dir: string): Promise<string[]> {
  const out: string[] = [];
  let names: string[];
  try {
    names = (await disk.list(dir)).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const path = `${dir}/${name}`;
    const bytes = disk.peek(path);
    if (bytes === undefined) out.push(...(await dataFiles(disk, path)));
    else if (bytes.length > 0) out.push(path);
  }
  return out;
}
