import type { HistoryEvent } from "./history";

/** One planned KV operation of {@link generateKvHistory}. */
export interface PlannedKvOperation {
  readonly key: string;
  readonly f: "put" | "get" | "cas";
  /** Value written by put / cas. */
  readonly value: number;
  /** Compare value of cas (`null` = absent). */
  readonly expected: number | null;
  /** Time units before the linearization point the client invokes. */
  readonly lead: number;
  /** Time units after the linearization point the client hears back. */
  readonly lag: number;
  /**
   * `ok`: acknowledged; `info`: the client never learns the outcome, the effect happened;
   * `info-dropped`: the client never learns the outcome, the effect never happened.
   */
  readonly outcome: "ok" | "info" | "info-dropped";
}

// Linearization points are this far apart, so a lead or lag below it keeps intervals sane.
const SPACING = 10;

/**
 * Builds a KV history that is linearizable by construction: operation `i` takes effect at time
 * `SPACING * (i + 1)` on a sequential register per key; its client invokes `lead` units earlier and
 * hears back `lag` units later, so intervals overlap freely. Each operation goes to the lowest
 * client free at its invoke (a client waits for its previous operation; an indeterminate one
 * keeps its client busy forever, as a crashed Jepsen process). A cas whose compare fails is
 * recorded as `fail`, as Jepsen clients do. For tests and benchmarks.
 */
export function generateKvHistory(plan: readonly PlannedKvOperation[]): HistoryEvent[] {
  const registers = new Map<string, number | null>();
  const busyUntil: number[] = [];
  const timed: { time: number; order: number; event: HistoryEvent }[] = [];
  plan.forEach((op, i) => {
    const point = SPACING * (i + 1);
    const call = point - op.lead;
    const ret = point + op.lag;
    let process = busyUntil.findIndex((until) => until < call);
    if (process === -1) process = busyUntil.length;
    busyUntil[process] = op.outcome === "ok" ? ret : Number.POSITIVE_INFINITY;
    const before = registers.get(op.key) ?? null;
    const applies = op.outcome !== "info-dropped";
    let input: unknown;
    let output: unknown;
    let type: "ok" | "fail" | "info" = op.outcome === "ok" ? "ok" : "info";
    switch (op.f) {
      case "put":
        input = op.value;
        if (applies) registers.set(op.key, op.value);
        break;
      case "get":
        output = before;
        break;
      case "cas":
        input = [op.expected, op.value];
        if (applies && before === op.expected) registers.set(op.key, op.value);
        if (op.outcome === "ok" && before !== op.expected) type = "fail";
        break;
    }
    const base = { process, f: op.f, key: op.key };
    timed.push({
      time: call,
      order: 2 * i,
      event: {
        ...base,
        type: "invoke",
        time: call,
        ...(input === undefined ? {} : { value: input }),
      },
    });
    timed.push({
      time: ret,
      order: 2 * i + 1,
      event: {
        ...base,
        type,
        time: ret,
        ...(type === "ok" && output !== undefined ? { value: output } : {}),
      },
    });
  });
  timed.sort((a, b) => a.time - b.time || a.order - b.order);
  return timed.map((t) => t.event);
}
