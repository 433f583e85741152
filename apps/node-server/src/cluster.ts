/**
 * `pnpm cluster`: a local 3-node cluster on one machine. Starts three `node-server` processes
 * (from TypeScript source, no build needed) with data and logs under `./data`, prints where
 * everything is, reports the leader (and every change of it), and stops all three on Ctrl-C.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const USAGE = `Usage: pnpm cluster [flags]

  --host HOST        address of every listener (default 127.0.0.1)
  --route-base PORT  route port of n1; n2 and n3 use the next two (default 7422)
  --http-base PORT   monitoring port of n1; n2 and n3 use the next two (default 8222)
  --client-base PORT NATS client port of n1; n2 and n3 use the next two (default 4222)
  --data DIR         data and logs (default ./data, relative to where pnpm was run)
  --log-level LEVEL  node log level (default info)
  --sync always|MS   WAL sync policy (default always: fsync before every acknowledgement)
  -h, --help         print this help`;

const SIZE = 3;
const APP_DIR = fileURLToPath(new URL("..", import.meta.url));

interface Member {
  readonly name: string;
  readonly routePort: number;
  readonly httpPort: number;
  readonly clientPort: number;
  readonly dataDir: string;
  readonly configFile: string;
  readonly logFile: string;
  child?: ChildProcess;
}

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(2);
}

function parsePort(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n + SIZE - 1 > 65535) {
    fail(`${flag}: expected a port between 1 and ${65536 - SIZE}, got ${JSON.stringify(text)}`);
  }
  return n;
}

function portFree(host: string, port: number): Promise<string | undefined> {
  return new Promise((done) => {
    const s = createServer();
    s.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    s.listen(port, host, () => s.close(() => done(undefined)));
  });
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      options: {
        host: { type: "string" },
        "route-base": { type: "string" },
        "http-base": { type: "string" },
        "client-base": { type: "string" },
        data: { type: "string" },
        "log-level": { type: "string" },
        sync: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    fail(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  if (values["help"] === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const str = (k: string): string | undefined => {
    const v = values[k];
    return typeof v === "string" ? v : undefined;
  };
  const host = str("host") ?? "127.0.0.1";
  const routeBase = parsePort(str("route-base"), 7422, "--route-base");
  const httpBase = parsePort(str("http-base"), 8222, "--http-base");
  const clientBase = parsePort(str("client-base"), 4222, "--client-base");
  // pnpm runs scripts in the package directory; INIT_CWD is where the user typed the command.
  const root = resolve(process.env["INIT_CWD"] ?? process.cwd(), str("data") ?? "data");
  const logLevel = str("log-level") ?? "info";
  const sync = str("sync") ?? "always";

  const members: Member[] = Array.from({ length: SIZE }, (_, i) => ({
    name: `n${i + 1}`,
    routePort: routeBase + i,
    httpPort: httpBase + i,
    clientPort: clientBase + i,
    dataDir: resolve(root, `n${i + 1}`),
    configFile: resolve(root, `n${i + 1}.json`),
    logFile: resolve(root, `n${i + 1}.log`),
  }));

  for (const m of members) {
    for (const [port, what] of [
      [m.routePort, "routes"],
      [m.httpPort, "HTTP"],
      [m.clientPort, "NATS"],
    ] as const) {
      const problem = await portFree(host, port);
      if (problem !== undefined) {
        fail(
          `port ${port} (${m.name} ${what}) on ${host} is not available (${problem}); stop whatever uses it or pass --${what === "HTTP" ? "http" : what === "NATS" ? "client" : "route"}-base`,
        );
      }
    }
  }

  mkdirSync(root, { recursive: true });
  for (const m of members) {
    const config = {
      serverName: m.name,
      clusterName: "local",
      listen: `${host}:${m.routePort}`,
      http: `${host}:${m.httpPort}`,
      client: { host, port: m.clientPort },
      dataDir: m.dataDir,
      logLevel,
      sync: /^\d+$/.test(sync) ? { intervalMs: Number(sync) } : sync,
      // Faster than nats-server's defaults (4–9 s elections) so a local failover is quick to see.
      timing: {
        electionTimeoutMinMs: 1500,
        electionTimeoutMaxMs: 3000,
        heartbeatIntervalMs: 250,
        lostQuorumIntervalMs: 5000,
        lostQuorumCheckMs: 2500,
      },
      peers: members
        .filter((p) => p !== m)
        .map((p) => ({
          name: p.name,
          route: `${host}:${p.routePort}`,
          http: `${host}:${p.httpPort}`,
        })),
    };
    writeFileSync(m.configFile, `${JSON.stringify(config, null, 2)}\n`);
  }

  let stopping = false;
  const stopAll = async (code: number): Promise<never> => {
    stopping = true;
    await Promise.all(
      members.map(
        (m) =>
          new Promise<void>((done) => {
            const c = m.child;
            if (c === undefined || c.exitCode !== null || c.signalCode !== null) return done();
            const force = setTimeout(() => c.kill("SIGKILL"), 12_000);
            c.once("exit", () => {
              clearTimeout(force);
              done();
            });
            c.kill("SIGTERM");
          }),
      ),
    );
    process.stdout.write(`cluster stopped${code === 0 ? "" : " after an error"}\n`);
    process.exit(code);
  };

  for (const m of members) {
    const fd = openSync(m.logFile, "a");
    // Own process group: the terminal's Ctrl-C reaches only this launcher, which then stops each
    // node exactly once with SIGTERM.
    const child = spawn(
      process.execPath,
      ["--conditions=@raft/source", "--import", "tsx", "src/main.ts", "--config", m.configFile],
      { cwd: APP_DIR, stdio: ["ignore", fd, fd], detached: true },
    );
    closeSync(fd);
    m.child = child;
    child.on("exit", (code, signal) => {
      if (stopping) return;
      process.stdout.write(
        `${m.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); see ${m.logFile}\n`,
      );
    });
  }
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  const lines = [
    `local cluster "local" with ${SIZE} nodes (data and logs in ${root})`,
    ...members.map(
      (m) =>
        `  ${m.name}  pid ${m.child?.pid}  routes ${host}:${m.routePort}  http://${host}:${m.httpPort}  nats://${host}:${m.clientPort}  data ${m.dataDir}  log ${m.logFile}`,
    ),
    "",
    "try:",
    `  curl -X PUT http://${host}:${httpBase}/kv/greeting -d hello`,
    `  curl http://${host}:${httpBase + 1}/kv/greeting`,
    `  nats req '$RAFT.KV.PUT.greeting' hello -s nats://${host}:${clientBase}`,
    `  nats req '$RAFT.KV.GET.greeting' '' -s nats://${host}:${clientBase + 1}`,
    `  curl http://${host}:${httpBase}/raftz`,
    `  curl http://${host}:${httpBase}/metrics`,
    "",
    "waiting for a leader...",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  // Report the leader, and every change of it, until stopped.
  let last = "";
  const started = performance.now();
  for (;;) {
    if (stopping) return;
    const leader = await findLeader(host, members);
    if (leader !== undefined && leader !== last) {
      process.stdout.write(`leader: ${leader}  (Ctrl-C stops the cluster)\n`);
      last = leader;
    }
    if (last === "" && performance.now() - started > 60_000) {
      process.stderr.write("cluster: no leader after 60 s; see the log files\n");
      await stopAll(1);
    }
    if (
      members.every(
        (m) => m.child === undefined || m.child.exitCode !== null || m.child.signalCode !== null,
      )
    ) {
      process.stderr.write("cluster: every node exited; see the log files\n");
      await stopAll(1);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function findLeader(host: string, members: readonly Member[]): Promise<string | undefined> {
  for (const m of members) {
    try {
      const r = await fetch(`http://${host}:${m.httpPort}/raftz?group=kv`, {
        signal: AbortSignal.timeout(1_000),
      });
      const body = (await r.json()) as { groups?: { kv?: { isLeader?: boolean } } };
      if (body.groups?.kv?.isLeader === true) return m.name;
    } catch {
      // not up yet, or just killed
    }
  }
  return undefined;
}

void main();
