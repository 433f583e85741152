/**
 * `pnpm bench:cluster`: three node-server processes on loopback, WAL fsync before every
 * acknowledgement, load generated inside the leader process (POST /admin/bench) at 1, 16, 64 and
 * 256 outstanding proposals of 256-byte values. Reports commits/s, p50/p99 commit latency, the
 * group-commit factor, and the CPU time each process used during each run. Bounded: every run
 * lasts `--duration-ms` (default 5 s) and at most 1,000,000 proposals.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { ProcessCluster, waitFor } from "../test/helpers/process-cluster";

interface Report {
  readonly outstanding: number;
  readonly committed: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly elapsedMs: number;
  readonly commitsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const { values } = parseArgs({
  options: {
    "duration-ms": { type: "string", default: "5000" },
    levels: { type: "string", default: "1,16,64,256" },
  },
});
const durationMs = Math.min(60_000, Math.max(500, Number(values["duration-ms"])));
const levels = String(values.levels)
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 1 && n <= 4096);

/** CPU seconds (user + system, and system alone) a node used since it started. */
async function cpuOf(
  cluster: ProcessCluster,
  name: string,
): Promise<{ total: number; system: number }> {
  const { body } = await cluster.json(name, "/varz");
  const cpu = body["cpu"] as { user: number; system: number };
  return { total: (cpu.user + cpu.system) / 1e6, system: cpu.system / 1e6 };
}

async function walOf(
  cluster: ProcessCluster,
  name: string,
): Promise<{ syncs: number; appends: number }> {
  const { body } = await cluster.json(name, "/raftz");
  const kv = (body["groups"] as Record<string, { wal: { syncs: number; appends: number } }>)["kv"];
  return kv?.wal ?? { syncs: 0, appends: 0 };
}

async function runLevel(
  cluster: ProcessCluster,
  leader: string,
  outstanding: number,
  ms: number,
): Promise<Report> {
  const r = await fetch(`http://127.0.0.1:${cluster.node(leader).httpPort}/admin/bench`, {
    method: "POST",
    body: JSON.stringify({ outstanding, durationMs: ms, maxProposals: 1_000_000, valueBytes: 256 }),
    signal: AbortSignal.timeout(ms + 60_000),
  });
  const body = (await r.json()) as Report & { error?: string; message?: string };
  if (r.status !== 200)
    throw new Error(`bench at ${outstanding} failed: ${r.status} ${body.error} ${body.message}`);
  return body;
}

async function main(): Promise<void> {
  const cluster = await ProcessCluster.create({
    size: 3,
    extra: {
      benchEndpoint: true,
      sync: "always",
      logLevel: "warn",
      // Moderate timing: fast to elect, but no spurious elections while the CPUs are saturated.
      timing: {
        electionTimeoutMinMs: 2000,
        electionTimeoutMaxMs: 4000,
        heartbeatIntervalMs: 250,
        lostQuorumIntervalMs: 10000,
        lostQuorumCheckMs: 5000,
      },
    },
  });
  const stop = async (): Promise<void> => {
    await Promise.all(cluster.nodes.map((n) => cluster.kill(n.name, "SIGTERM").catch(() => null)));
    await cluster.stopAll();
  };
  process.on("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    cluster.startAll();
    const leader = await cluster.waitForLeader(30_000);
    await waitFor(
      "every node healthy",
      async () => {
        const all = await Promise.all(cluster.nodes.map((n) => cluster.json(n.name, "/healthz")));
        return all.every((h) => h.status === 200) ? true : undefined;
      },
      15_000,
    );
    process.stdout.write(`leader ${leader}; warming up...\n`);
    await runLevel(cluster, leader, 16, 1000);

    const rows: string[] = [];
    for (const outstanding of levels) {
      const names = cluster.nodes.map((n) => n.name);
      const cpuBefore = await Promise.all(names.map((n) => cpuOf(cluster, n)));
      const walBefore = await walOf(cluster, leader);
      const report = await runLevel(cluster, leader, outstanding, durationMs);
      const cpuAfter = await Promise.all(names.map((n) => cpuOf(cluster, n)));
      const walAfter = await walOf(cluster, leader);
      const seconds = report.elapsedMs / 1000;
      const cpu = names.map((n, i) => {
        const used = (cpuAfter[i]?.total ?? 0) - (cpuBefore[i]?.total ?? 0);
        const sys = (cpuAfter[i]?.system ?? 0) - (cpuBefore[i]?.system ?? 0);
        return `${n}${n === leader ? "*" : ""} ${used.toFixed(2)} s (${Math.round((used / seconds) * 100)}%, sys ${sys.toFixed(2)} s)`;
      });
      const syncs = walAfter.syncs - walBefore.syncs;
      const perSync = syncs === 0 ? 0 : (walAfter.appends - walBefore.appends) / syncs;
      const failed =
        report.failed === 0 ? "" : ` (${report.failed} failed: ${JSON.stringify(report.failures)})`;
      const row = `| ${outstanding} | ${Math.round(report.commitsPerSec)} | ${report.p50Ms.toFixed(2)} | ${report.p99Ms.toFixed(2)} | ${report.committed}${failed} | ${(syncs / seconds).toFixed(0)} | ${perSync.toFixed(1)} | ${cpu.join(", ")} |`;
      rows.push(row);
      process.stdout.write(`${row}\n`);
    }
    const model =
      readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
    process.stdout.write(
      [
        "",
        `node-server cluster bench: 3 processes on 127.0.0.1, sync "always" (fsync before ack), 256 B values, ${durationMs} ms per level`,
        `machine: ${model}, ${cpus().length} CPUs, Node ${process.version}`,
        "",
        "| outstanding | commits/s | p50 ms | p99 ms | committed | leader fsyncs/s | leader appends/fsync | CPU per process: user+sys (% of a core, sys part) (* = leader) |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        ...rows,
        "",
      ].join("\n"),
    );
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:cluster failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
