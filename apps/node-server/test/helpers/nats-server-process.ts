import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { killAndWait, waitFor } from "./process-cluster";

/** What a test says when the real server is missing: how to get it, never a silent skip. */
export const NATS_SERVER_MISSING: string =
  "nats-server is not installed (looked on PATH and at /usr/sbin/nats-server): the interop tests " +
  "compare node-server with the real NATS server. Install it with `apt-get install -y nats-server` " +
  "or run `bash tooling/ensure-system-deps.sh` from the repository root.";

/** The `nats-server` executable: the first one on PATH, else Debian's `/usr/sbin/nats-server`. */
export function findNatsServer(): string | undefined {
  const dirs = (process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== "");
  for (const dir of [...dirs, "/usr/sbin", "/usr/local/bin", "/usr/bin"]) {
    const candidate = join(dir, "nats-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The client-side limits both servers of an interop test run with (node-server's defaults). */
export interface InteropLimits {
  readonly maxPayload: number;
  readonly maxControlLine: number;
  readonly maxPendingBytes: number;
  readonly maxConnections: number;
  readonly pingIntervalMs: number;
  readonly maxPingsOut: number;
}

/** Options of {@link startNatsServer} beyond the limits. */
export interface NatsServerOptions {
  /** A fixed port (to restart a server where its clients expect it); default: a random one. */
  readonly port?: number;
  /** Extra lines for its config file (e.g. an `authorization { ... }` block). */
  readonly extraConfig?: readonly string[];
}

/** A running real `nats-server` on 127.0.0.1. */
export interface NatsServerProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything it wrote to stdout/stderr (it logs to a file in its temp dir; this catches crashes). */
  readonly output: string[];
  /** Its log file (kept only while it runs). */
  readonly logFile: string;
  /** SIGTERM (SIGKILL after 15 s), then removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the real `nats-server` on 127.0.0.1 with a random port (`-p -1`; the port is read from the
 * ports file it writes, so there is no race for a "free" port) or `options.port`, with `limits`
 * (and `options.extraConfig`) in a config file
 * inside a fresh temp dir and its log in the same dir. Resolves once the port is known (5 s at
 * most).
 *
 * @throws Error with {@link NATS_SERVER_MISSING} when the executable is not found; an Error naming
 *   its output when it exits or does not report a port in time.
 */
export async function startNatsServer(
  limits: InteropLimits,
  options: NatsServerOptions = {},
): Promise<NatsServerProcess> {
  const exe = findNatsServer();
  if (exe === undefined) throw new Error(NATS_SERVER_MISSING);
  const dir = await mkdtemp(join(tmpdir(), "nats-interop-"));
  const config = join(dir, "interop.conf");
  const logFile = join(dir, "nats-server.log");
  // Durations in nats-server's config are Go duration strings.
  await writeFile(
    config,
    [
      `max_payload: ${limits.maxPayload}`,
      `max_control_line: ${limits.maxControlLine}`,
      `max_pending: ${limits.maxPendingBytes}`,
      `max_connections: ${limits.maxConnections}`,
      `ping_interval: "${limits.pingIntervalMs}ms"`,
      `ping_max: ${limits.maxPingsOut}`,
      ...(options.extraConfig ?? []),
      "",
    ].join("\n"),
  );
  const output: string[] = [];
  const child = spawn(
    exe,
    [
      "-c",
      config,
      "-a",
      "127.0.0.1",
      "-p",
      String(options.port ?? -1),
      "-n",
      "interop",
      "-l",
      logFile,
      "--ports_file_dir",
      dir,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => output.push(chunk));
  }
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await killAndWait(child, "SIGTERM").catch(() => {});
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    const port = await waitFor(
      "nats-server to write its ports file",
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          const log = await readFile(logFile, "utf8").catch(() => "");
          throw new Error(
            `nats-server exited (${child.exitCode ?? child.signalCode}): ${output.join("")}${log}`,
          );
        }
        const name = (await readdir(dir)).find((f) => f.endsWith(".ports"));
        if (name === undefined) return undefined;
        const ports = JSON.parse(await readFile(join(dir, name), "utf8")) as { nats?: string[] };
        const url = ports.nats?.[0];
        return url === undefined ? undefined : Number(new URL(url).port);
      },
      5_000,
      20,
    );
    return { port, child, output, logFile, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
