import type { AppliedCommand, StateMachine } from "../../server/types";
import type { KvInput, KvOutput, KvValue } from "../checkers/kv-model";
import { kvRegisterModel } from "../checkers/kv-model";
import { checkLinearizability } from "../checkers/linearizability";
import type { Operation } from "../checkers/model";
import type { SimRandom } from "./sim-random";
import type { SimOperation, SimReplica, SimWorkload } from "./workload";

/**
 * A command of the KV state machine. `get` is served by the leader after a linearizable read
 * barrier (`RaftGroup.readBarrier`), not replicated; `apply` still answers it, for users who
 * propose it.
 */
export type KvCommand =
  | { readonly t: "put"; readonly k: string; readonly v: number }
  | { readonly t: "get"; readonly k: string }
  | { readonly t: "cas"; readonly k: string; readonly e: number | null; readonly v: number };

/** Result: `put` → `null`, `get` → the value (`null` when absent), `cas` → whether it swapped. */
export type KvResult = number | boolean | null;

/** The replicated KV map: one register per key. */
export class KvStateMachine implements StateMachine<KvCommand, KvResult> {
  readonly values: Map<string, number> = new Map();
  /** Raft index of the last command applied (restored with snapshots). */
  lastIndex = 0;

  apply(commands: readonly AppliedCommand<KvCommand>[]): KvResult[] {
    return commands.map(({ index, command: c }) => {
      this.lastIndex = index;
      switch (c.t) {
        case "put":
          this.values.set(c.k, c.v);
          return null;
        case "get":
          return this.values.get(c.k) ?? null;
        default: {
          const current = this.values.get(c.k) ?? null;
          if (current !== c.e) return false;
          this.values.set(c.k, c.v);
          return true;
        }
      }
    });
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(
      JSON.stringify({ lastIndex: this.lastIndex, values: [...this.values] }),
    );
  }

  restore(data: Uint8Array): void {
    const parsed = JSON.parse(new TextDecoder().decode(data)) as {
      lastIndex: number;
      values: [string, number][];
    };
    this.lastIndex = parsed.lastIndex;
    this.values.clear();
    for (const [k, v] of parsed.values) this.values.set(k, v);
  }
}

/** Options of {@link kvWorkload}. */
export interface KvWorkloadOptions {
  /** Group name. Default `"kv"`. */
  readonly group?: string;
  /** Concurrent clients. Default 3. */
  readonly clients?: number;
  /** Number of keys (`k0`, `k1`, ...). Default 3. */
  readonly keys?: number;
}

/**
 * The register/KV workload: `put`, `get` (through the read barrier) and compare-and-set on a few
 * keys, each written value unique. The final check is the Wing–Gong–Lowe linearizability checker with the KV register model,
 * partitioned per key; a `cas` that did not swap is passed as evidence (`swapped: false`).
 */
export function kvWorkload(
  options: KvWorkloadOptions = {},
): SimWorkload<KvCommand, KvResult, KvStateMachine> {
  const keys = Array.from({ length: options.keys ?? 3 }, (_, i) => `k${i}`);
  const clients = options.clients ?? 3;
  const counters = new Array<number>(clients).fill(0);
  // Values each client last saw per key: good guesses for compare-and-set.
  const seen = new Map<string, number | null>();
  return {
    group: options.group ?? "kv",
    clients,
    createStateMachine: (): KvStateMachine => new KvStateMachine(),
    nextCommand(client: number, random: SimRandom): KvCommand {
      const k = random.pick(keys);
      const roll = random.next();
      const v = client * 1_000_000 + ++(counters[client] as number);
      if (roll < 0.35) return { t: "put", k, v };
      if (roll < 0.7) return { t: "get", k };
      const e = random.chance(0.8) ? (seen.get(k) ?? null) : null;
      return { t: "cas", k, e, v };
    },
    isReadOnly: (command: KvCommand): boolean => command.t === "get",
    query: (machine: KvStateMachine, command: KvCommand): KvResult =>
      machine.values.get(command.k) ?? null,
    onComplete(op: SimOperation<KvCommand, KvResult>): void {
      if (op.outcome.type !== "ok") return;
      const c = op.command;
      if (c.t === "put") seen.set(c.k, c.v);
      else if (c.t === "get") seen.set(c.k, op.outcome.result as number | null);
      else if (op.outcome.result === true) seen.set(c.k, c.v);
    },
    check(history: readonly SimOperation<KvCommand, KvResult>[]): readonly string[] {
      const result = checkLinearizability(kvRegisterModel, kvOperations(history), {
        maxStepsPerKey: 5_000_000,
      });
      if (result.valid === true) return [];
      if (result.valid === "unknown") return [`kv: linearizability unknown: ${result.reason}`];
      return [`kv: not linearizable (${result.kind}) on key ${result.key}\n${result.explanation}`];
    },
    invariant(replicas: readonly SimReplica<KvStateMachine>[]): string | undefined {
      // Replicas whose last applied command is the same index hold the same map.
      const byIndex = new Map<number, SimReplica<KvStateMachine>>();
      for (const r of replicas) {
        const index = r.machine.lastIndex;
        const other = byIndex.get(index);
        if (other === undefined) {
          byIndex.set(index, r);
          continue;
        }
        if (!sameMap(other.machine.values, r.machine.values)) {
          return `kv: ${other.node} and ${r.node} both applied up to ${index} but hold different maps`;
        }
      }
      return undefined;
    },
  };
}

function sameMap(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Converts the run's KV history into checker operations (`fail`s are left out). */
export function kvOperations(
  history: readonly SimOperation<KvCommand, KvResult>[],
): Operation<KvInput, KvOutput>[] {
  const ops: Operation<KvInput, KvOutput>[] = [];
  history.forEach((op, id) => {
    if (op.outcome.type === "fail") return;
    const c = op.command;
    const input: KvInput =
      c.t === "put"
        ? { f: "put", value: c.v }
        : c.t === "get"
          ? { f: "get" }
          : { f: "cas", expected: c.e, value: c.v };
    let output: KvOutput | undefined;
    if (op.outcome.type === "ok") {
      const r = op.outcome.result;
      output =
        c.t === "put"
          ? { f: "put" }
          : c.t === "get"
            ? { f: "get", value: r as KvValue }
            : { f: "cas", swapped: r === true };
    }
    ops.push({
      id,
      process: op.client,
      key: c.k,
      input,
      output,
      call: op.call,
      return: op.outcome.type === "info" ? Number.POSITIVE_INFINITY : op.return,
    });
  });
  return ops;
}
