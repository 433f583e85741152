import { type SimulationOptions, type SimulationResult, simulate } from "../../src/testing/index";

/** An integer from the environment (`SIM_SEEDS=1000 pnpm test test/simulation`), else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name}=${text} is not a non-negative integer`);
  return n;
}

/** Totals of a batch of runs, with the speed figures the issue asks for. */
export interface BatchReport {
  readonly runs: number;
  readonly events: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly failures: readonly SimulationResult[];
  /** Seeds whose replicas did not converge (only with `requireConvergence: false`). */
  readonly unconverged: readonly number[];
}

/** Runs seeds `[from, to)` one after another and measures them. */
export async function runSeeds(
  from: number,
  to: number,
  options: Omit<SimulationOptions, "seed">,
): Promise<BatchReport> {
  const started = performance.now();
  let events = 0;
  let simulatedMs = 0;
  let runs = 0;
  const failures: SimulationResult[] = [];
  const unconverged: number[] = [];
  for (let seed = from; seed < to; seed++) {
    const result = await simulate({ ...options, seed });
    runs++;
    events += result.events;
    simulatedMs += result.simulatedMs;
    if (!result.ok) failures.push(result);
    if (result.unconverged !== undefined) unconverged.push(seed);
  }
  return { runs, events, simulatedMs, wallMs: performance.now() - started, failures, unconverged };
}

/** One line per failure: the seed, the first violation and the replay command. */
export function describeFailures(failures: readonly SimulationResult[], extraFlags = ""): string {
  return failures
    .map((r) => {
      const v = r.violations[0];
      return `seed ${r.seed}: ${v?.kind}: ${v?.detail.split("\n")[0]} — replay: ${r.replay}${extraFlags}`;
    })
    .join("\n");
}

/** `N events in S s: E events/s, X simulated s per wall s`. */
export function describeSpeed(report: BatchReport): string {
  const eventsPerSecond = Math.round((report.events / report.wallMs) * 1000);
  const ratio = (report.simulatedMs / report.wallMs).toFixed(1);
  return `${report.runs} runs, ${report.events} events in ${(report.wallMs / 1000).toFixed(1)} s: ${eventsPerSecond} events/s, ${ratio} simulated s per wall s`;
}
