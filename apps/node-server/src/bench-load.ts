import type { RaftGroup } from "@raft/server-integration";
import { ServerError } from "@raft/server-integration";
import type { KvCommand, KvResult } from "./kv-state-machine";

/** Parameters of one load run (all bounded: see {@link LOAD_LIMITS}). */
export interface LoadOptions {
  /** Proposals kept in flight at once. */
  readonly outstanding: number;
  /** Stop issuing after this long. */
  readonly durationMs: number;
  /** Stop issuing after this many proposals. */
  readonly maxProposals: number;
  /** Size of each value. */
  readonly valueBytes: number;
}

/** Upper bounds of {@link LoadOptions}. */
export const LOAD_LIMITS: {
  readonly outstanding: number;
  readonly durationMs: number;
  readonly maxProposals: number;
  readonly valueBytes: number;
} = Object.freeze({
  outstanding: 4096,
  durationMs: 60_000,
  maxProposals: 1_000_000,
  valueBytes: 64 * 1024,
});

/** What a load run measured. Latency is from `propose` to its resolution (commit + apply). */
export interface LoadReport {
  readonly outstanding: number;
  readonly valueBytes: number;
  readonly committed: number;
  readonly failed: number;
  /** Failure codes and their counts. */
  readonly failures: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  readonly commitsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Runs a closed-loop load on `group` from inside this process: `outstanding` workers, each
 * proposing one `put` of `valueBytes` bytes and waiting for it to commit and apply before the next.
 * Keys cycle through 1,024 names so that memory stays bounded. Ends at the first of `durationMs`
 * and `maxProposals`; a `NOT_LEADER` or `CLOSED` failure stops every worker.
 */
export async function runLoad(
  group: RaftGroup<KvCommand, KvResult>,
  options: LoadOptions,
): Promise<LoadReport> {
  const value = new Uint8Array(options.valueBytes);
  for (let i = 0; i < value.length; i++) value[i] = (i * 31 + 7) & 0xff;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let issued = 0;
  let failed = 0;
  let stop = false;
  const start = performance.now();
  const end = start + options.durationMs;

  const worker = async (): Promise<void> => {
    while (!stop && issued < options.maxProposals && performance.now() < end) {
      const seq = issued++;
      const t0 = performance.now();
      try {
        await group.propose({ op: "put", key: `bench.${seq % 1024}`, value });
        latencies.push(performance.now() - t0);
      } catch (error) {
        failed++;
        const code = error instanceof ServerError ? error.code : "ERROR";
        failures[code] = (failures[code] ?? 0) + 1;
        if (code === "NOT_LEADER" || code === "CLOSED" || code === "ERROR") stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: options.outstanding }, worker));
  const elapsedMs = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const pick = (q: number): number =>
    latencies.length === 0
      ? 0
      : (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return {
    outstanding: options.outstanding,
    valueBytes: options.valueBytes,
    committed: latencies.length,
    failed,
    failures,
    elapsedMs: round(elapsedMs),
    commitsPerSec: round((latencies.length * 1000) / elapsedMs),
    p50Ms: round(pick(0.5)),
    p99Ms: round(pick(0.99)),
    maxMs: round(latencies.at(-1) ?? 0),
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
