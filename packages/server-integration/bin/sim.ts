/**
 * The simulator's command line.
 *
 *   pnpm sim --seed N                     replay one run and print its trace
 *   pnpm sim --seeds K --minutes M        explore K seeds (from --from), at most M minutes
 *
 * Options: --events E (safety-phase events, default 20000), --nodes 3|5, --from S (first seed of
 * an exploration; default: derived from the wall clock and printed), --quiet (no trace),
 * --bug ackBeforePersist|voteBeforePersist|serveReadsWithoutQuorum|... (planted
 * bug, test only). Exit code 1 when any run found a violation; every failure prints its seed and
 * the exact replay command.
 */

import { parseArgs } from "node:util";
import type { UnsafeTestingFaults } from "@raft/core";
import { type SimulationResult, simulate } from "../src/testing/index";

const BUGS = [
  "ackBeforePersist",
  "voteBeforePersist",
  "commitOlderTermByCount",
  "skipConflictTruncation",
  "serveReadsWithoutQuorum",
  "truncateAtDamage",
  "ignoreLostTail",
];

// `pnpm sim -- --seed 1` passes the `--` through: drop it.
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === "--"));
const { values } = parseArgs({
  args,
  options: {
    seed: { type: "string" },
    seeds: { type: "string" },
    minutes: { type: "string" },
    from: { type: "string" },
    events: { type: "string" },
    nodes: { type: "string" },
    quiet: { type: "boolean", default: false },
    bug: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});

function usage(message?: string): never {
  if (message !== undefined) console.error(`sim: ${message}`);
  console.error(
    "usage: pnpm sim --seed N [--events E] [--nodes 3|5] [--quiet] [--bug NAME]\n" +
      "       pnpm sim --seeds K --minutes M [--from S] [--events E] [--nodes 3|5] [--bug NAME]",
  );
  process.exit(message === undefined ? 0 : 2);
}

function int(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) usage(`--${name} must be a non-negative integer`);
  return n;
}

if (values.help) usage();
const events = int("events", values.events, 20_000);
const nodes = int("nodes", values.nodes, 3);
if (nodes !== 3 && nodes !== 5) usage("--nodes must be 3 or 5");
if (values.bug !== undefined && !BUGS.includes(values.bug))
  usage(`--bug must be one of ${BUGS.join(", ")}`);
const unsafeTestingFaults: UnsafeTestingFaults | undefined =
  values.bug === undefined ? undefined : { [values.bug]: true };

/** The exact command that replays `seed` with this invocation's options. */
function replay(seed: number): string {
  let cmd = `pnpm sim --seed ${seed}`;
  if (values.events !== undefined) cmd += ` --events ${events}`;
  if (values.nodes !== undefined) cmd += ` --nodes ${nodes}`;
  if (values.bug !== undefined) cmd += ` --bug ${values.bug}`;
  return cmd;
}

function report(result: SimulationResult): void {
  for (const v of result.violations) {
    console.log(
      `VIOLATION seed ${result.seed} ${v.kind} at event ${v.event}, ${v.time} ms: ${v.detail}`,
    );
  }
  if (!result.ok) console.log(`replay: ${replay(result.seed)}`);
}

function summary(result: SimulationResult): string {
  const ops = Object.entries(result.operations)
    .map(([g, c]) => `${g} ok ${c.ok} info ${c.info} fail ${c.fail}`)
    .join(", ");
  const faults = Object.entries(result.faults)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return `seed ${result.seed}: ${result.ok ? "ok" : "VIOLATION"}, ${result.events} events, ${(result.simulatedMs / 1000).toFixed(1)} s simulated, ${result.restarts} boots; ${ops}; faults: ${faults || "none"}`;
}

const base = {
  events,
  nodes: nodes as 3 | 5,
  ...(unsafeTestingFaults === undefined ? {} : { unsafeTestingFaults }),
};

if (values.seed !== undefined) {
  const seed = int("seed", values.seed, 0);
  const started = performance.now();
  const result = await simulate({
    ...base,
    seed,
    trace: "hash",
    ...(values.quiet ? {} : { onTrace: (line: string) => console.log(line) }),
  });
  const wallMs = performance.now() - started;
  console.log(summary(result));
  console.log(`trace hash ${result.traceHash} (${result.traceLineCount} lines)`);
  console.log(speed(result.events, result.simulatedMs, wallMs));
  report(result);
  process.exit(result.ok ? 0 : 1);
} else if (values.seeds !== undefined) {
  const count = int("seeds", values.seeds, 0);
  const minutes = Number(values.minutes ?? "5");
  if (!(minutes > 0)) usage("--minutes must be > 0");
  const from = int("from", values.from, Date.now() % 1_000_000_000);
  const started = performance.now();
  const stopAt = started + minutes * 60_000;
  let runs = 0;
  let failures = 0;
  let totalEvents = 0;
  let totalSimMs = 0;
  console.log(`exploring seeds ${from}..${from + count - 1} for at most ${minutes} min`);
  for (let seed = from; seed < from + count && performance.now() < stopAt; seed++) {
    const result = await simulate({ ...base, seed, trace: "off" });
    runs++;
    totalEvents += result.events;
    totalSimMs += result.simulatedMs;
    if (!result.ok) {
      failures++;
      console.log(summary(result));
      report(result);
    } else if (runs % 10 === 0) {
      console.log(`${runs} runs, ${failures} failing`);
    }
  }
  const wallMs = performance.now() - started;
  console.log(`${runs} runs (seeds ${from}..${from + runs - 1}), ${failures} failing`);
  console.log(speed(totalEvents, totalSimMs, wallMs));
  process.exit(failures === 0 ? 0 : 1);
} else {
  usage("give --seed N or --seeds K");
}

function speed(eventCount: number, simMs: number, wallMs: number): string {
  return `${eventCount} events in ${(wallMs / 1000).toFixed(1)} s wall: ${Math.round((eventCount / wallMs) * 1000)} events/s, ${(simMs / wallMs).toFixed(1)} simulated s per wall s`;
}
