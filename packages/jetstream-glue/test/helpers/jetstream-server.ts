// Starts the real nats-server with JetStream for the differential tests (same approach as
// apps/node-server's interop helper: a random port read back from the ports file).
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** What a test says when the real server is missing: how to get it, never a silent skip. */
export const NATS_SERVER_MISSING: string =
  "nats-server is not installed (looked on PATH and at /usr/sbin/nats-server): the differential " +
  "tests compare the stream store with the real JetStream. Install it with " +
  "`bash tooling/ensure-system-deps.sh` from the repository root (or `apt-get install -y nats-server`).";

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

/** A running real `nats-server -js` on 127.0.0.1. */
export interface JetStreamServer {
  readonly port: number;
  readonly output: string[];
  /** SIGTERM (SIGKILL after 5 s), then removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await gone;
  clearTimeout(timer);
}

/**
 * Starts `nats-server -js` with its store in a fresh temp dir, on 127.0.0.1 and a random port
 * (`-p -1`, read from the ports file, so there is no race for a free port). Resolves once the port
 * is known (5 s at most).
 *
 * @throws Error with {@link NATS_SERVER_MISSING} when the executable is not found; an Error with
 *   its output when it exits or reports no port in time.
 */
export async function startJetStreamServer(): Promise<JetStreamServer> {
  const exe = findNatsServer();
  if (exe === undefined) throw new Error(NATS_SERVER_MISSING);
  const dir = await mkdtemp(join(tmpdir(), "js-diff-"));
  const output: string[] = [];
  const child = spawn(
    exe,
    ["-js", "-sd", join(dir, "store"), "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => output.push(chunk));
  }
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await killAndWait(child);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    const deadline = performance.now() + 5_000;
    for (;;) {
      if (exited(child)) {
        throw new Error(
          `nats-server exited (${child.exitCode ?? child.signalCode}): ${output.join("")}`,
        );
      }
      const name = (await readdir(dir)).find((f) => f.endsWith(".ports"));
      if (name !== undefined) {
        const text = await readFile(join(dir, name), "utf8");
        const url = (JSON.parse(text) as { nats?: string[] }).nats?.[0];
        if (url !== undefined) return { port: Number(new URL(url).port), output, stop };
      }
      if (performance.now() > deadline) {
        throw new Error(`nats-server wrote no ports file within 5 s: ${output.join("")}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (error) {
    await stop();
    throw error;
  }
}
