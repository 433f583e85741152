import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The app's root directory (children run `src/main.ts` from here). */
export const APP_DIR: string = fileURLToPath(new URL("../..", import.meta.url));

/** Short Raft timing so that tests elect in about a second. */
export const FAST_TIMING = {
  electionTimeoutMinMs: 500,
  electionTimeoutMaxMs: 1000,
  heartbeatIntervalMs: 100,
  lostQuorumIntervalMs: 2000,
  lostQuorumCheckMs: 1000,
} as const;

/** Ports the OS reports free right now (bound to port 0, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import("node:net").Server>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (typeof a !== "object" || a === null) throw new Error("no port");
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Polls `check` until it returns a value other than `undefined`, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? "" : ` (last error: ${String(lastError)})`}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** One node of a {@link ProcessCluster}. */
export interface TestNode {
  readonly name: string;
  readonly routePort: number;
  readonly httpPort: number;
  /** Its NATS client port. */
  readonly clientPort: number;
  readonly configFile: string;
  readonly dataDir: string;
  child: ChildProcess | undefined;
  /** Every stdout/stderr line of every run of this node. */
  readonly lines: string[];
}

/** Options of {@link ProcessCluster.create}. */
export interface ClusterOptions {
  readonly size: number;
  /** Extra config fields for every node (merged over the defaults). */
  readonly extra?: Record<string, unknown>;
  /**
   * The last `joiners` nodes are not in the other nodes' `peers` (so not in the group they
   * bootstrap); each joiner lists every other node. Default 0.
   */
  readonly joiners?: number;
  /**
   * Run the nodes over the NATS fabric against these NATS server URLs instead of the built-in
   * routes (no `listen`, no `peers[].route`). Default: routes.
   */
  readonly natsServers?: readonly string[];
}

/**
 * Real `node-server` processes on 127.0.0.1 with temporary data directories. `stopAll` kills every
 * child (SIGKILL) and removes the directory; call it in `afterEach`/`afterAll`.
 */
export class ProcessCluster {
  readonly dir: string;
  readonly nodes: TestNode[];

  private constructor(dir: string, nodes: TestNode[]) {
    this.dir = dir;
    this.nodes = nodes;
  }

  /** Writes one config file per node; starts nothing. */
  static async create(options: ClusterOptions): Promise<ProcessCluster> {
    const dir = await mkdtemp(join(tmpdir(), "node-server-test-"));
    const ports = await freePorts(options.size * 3);
    const nodes: TestNode[] = [];
    for (let i = 0; i < options.size; i++) {
      const name = `n${i + 1}`;
      nodes.push({
        name,
        routePort: ports[3 * i] as number,
        httpPort: ports[3 * i + 1] as number,
        clientPort: ports[3 * i + 2] as number,
        configFile: join(dir, `${name}.json`),
        dataDir: join(dir, name),
        child: undefined,
        lines: [],
      });
    }
    const founders = nodes.slice(0, nodes.length - (options.joiners ?? 0));
    for (const n of nodes) {
      const listed = founders.includes(n) ? founders : nodes;
      const nats = options.natsServers;
      const config = {
        serverName: n.name,
        ...(nats === undefined
          ? { listen: `127.0.0.1:${n.routePort}` }
          : { nats: { servers: nats, reconnectWaitMs: 200 } }),
        http: `127.0.0.1:${n.httpPort}`,
        client: { port: n.clientPort },
        dataDir: n.dataDir,
        peers: listed
          .filter((p) => p !== n)
          .map((p) => ({
            name: p.name,
            ...(nats === undefined ? { route: `127.0.0.1:${p.routePort}` } : {}),
            http: `127.0.0.1:${p.httpPort}`,
          })),
        timing: FAST_TIMING,
        ...options.extra,
      };
      await writeFile(n.configFile, JSON.stringify(config, null, 2));
    }
    return new ProcessCluster(dir, nodes);
  }

  node(name: string): TestNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  /** Starts a node's process (again, after a kill) with its config file. */
  start(name: string): void {
    const n = this.node(name);
    if (n.child !== undefined && n.child.exitCode === null && n.child.signalCode === null) {
      throw new Error(`${name} is already running`);
    }
    n.child = spawnNodeServer(["--config", n.configFile], n.lines);
  }

  startAll(): void {
    for (const n of this.nodes) this.start(n.name);
  }

  /** Sends `signal` and waits until the process is gone. */
  async kill(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    const n = this.node(name);
    const child = n.child;
    if (child === undefined) return null;
    return killAndWait(child, signal);
  }

  /** The running nodes. */
  live(): TestNode[] {
    return this.nodes.filter(
      (n) => n.child !== undefined && n.child.exitCode === null && n.child.signalCode === null,
    );
  }

  /** GET a JSON endpoint of a node. */
  async json(
    name: string,
    path: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await fetch(`http://127.0.0.1:${this.node(name).httpPort}${path}`, {
      signal: AbortSignal.timeout(5_000),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }

  /** The kv group's status on a node (from /raftz). */
  async kvStatus(name: string): Promise<KvStatus> {
    const { body } = await this.json(name, "/raftz");
    const groups = body["groups"] as Record<string, KvStatus>;
    const kv = groups["kv"];
    if (kv === undefined) throw new Error(`${name}: no kv group in /raftz`);
    return kv;
  }

  /** Waits until every live node agrees on one leader that is itself live; returns its name. */
  async waitForLeader(timeoutMs = 15_000): Promise<string> {
    return waitFor(
      "a kv leader that every live node agrees on",
      async () => {
        const live = this.live();
        const statuses = await Promise.all(live.map((n) => this.kvStatus(n.name)));
        const leaders = statuses.filter((s) => s.isLeader);
        if (leaders.length !== 1) return undefined;
        const leader = leaders[0] as KvStatus;
        if (!statuses.every((s) => s.leaderId === leader.id)) return undefined;
        return live[statuses.indexOf(leader)]?.name;
      },
      timeoutMs,
    );
  }

  /** Kills every child (SIGKILL) and removes the temporary directory. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.nodes.map((n) => (n.child === undefined ? undefined : killAndWait(n.child, "SIGKILL"))),
    );
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Log lines of a node that parse as JSON. */
  logs(name: string): Record<string, unknown>[] {
    return parseLogLines(this.node(name).lines);
  }
}

/** The parts of `GroupStatus` tests read. */
export interface KvStatus {
  readonly id: string;
  readonly clusterSize: number;
  readonly state: string;
  readonly term: number;
  readonly leaderId: string;
  readonly leaderServerName?: string;
  readonly isLeader: boolean;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshot: { readonly index: number; readonly taken: number };
  readonly queues: { readonly invalidDropped: number };
  readonly peers: readonly { id: string; lag: number; lastContactMs?: number }[];
}

/** Spawns `node-server` from source with `args`; output lines are appended to `lines`. */
export function spawnNodeServer(args: readonly string[], lines: string[]): ChildProcess {
  const child = spawn(
    process.execPath,
    ["--conditions=@raft/source", "--import", "tsx", "src/main.ts", ...args],
    { cwd: APP_DIR, stdio: ["ignore", "pipe", "pipe"] },
  );
  const collect = (stream: NodeJS.ReadableStream | null): void => {
    let rest = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    });
    stream?.on("end", () => {
      if (rest !== "") lines.push(rest);
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  return child;
}

/** Sends `signal` to `child` and resolves with its exit code once it exited (at most 15 s). */
export function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`process ${child.pid} did not exit within 15 s of ${signal}`));
    }, 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

/** Waits for a child to exit on its own; resolves with its exit code. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** The JSON objects among `lines` (pino output); other lines are skipped. */
export function parseLogLines(lines: readonly string[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line: skip
    }
  }
  return out;
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
