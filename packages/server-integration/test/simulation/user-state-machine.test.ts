import { describe, expect, it } from "vitest";
import type { AppliedCommand, StateMachine } from "../../src/index";
import {
  checkLinearizability,
  type Model,
  type Operation,
  type SimReplica,
  type SimWorkload,
  simulate,
} from "../../src/testing/index";
import { envInt } from "./helpers";

/** A transfer between two of three accounts; refused (false) when the source lacks the money. */
interface Transfer {
  readonly from: number;
  readonly to: number;
  readonly amount: number;
}

/** A user's state machine: three accounts of 100 each. */
class Bank implements StateMachine<Transfer, boolean> {
  balances = [100, 100, 100];
  lastIndex = 0;
  /** A planted bug for the negative test: this replica pays a bonus on every transfer. */
  readonly bonus: number;

  constructor(bonus = 0) {
    this.bonus = bonus;
  }

  apply(commands: readonly AppliedCommand<Transfer>[]): boolean[] {
    return commands.map(({ index, command: t }) => {
      this.lastIndex = index;
      if ((this.balances[t.from] ?? 0) < t.amount) return false;
      this.balances[t.from] = (this.balances[t.from] ?? 0) - t.amount;
      this.balances[t.to] = (this.balances[t.to] ?? 0) + t.amount + this.bonus;
      return true;
    });
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([this.lastIndex, this.balances]));
  }

  restore(data: Uint8Array): void {
    [this.lastIndex, this.balances] = JSON.parse(new TextDecoder().decode(data)) as [
      number,
      number[],
    ];
  }
}

/** The bank's sequential specification, for the linearizability checker (one key: the bank). */
const bankModel: Model<readonly number[], Transfer, boolean> = {
  init: () => [100, 100, 100],
  step(state, t, ok) {
    const can = (state[t.from] ?? 0) >= t.amount;
    const next = [...state];
    if (can) {
      next[t.from] = (next[t.from] ?? 0) - t.amount;
      next[t.to] = (next[t.to] ?? 0) + t.amount;
    }
    return [ok === undefined || ok === can, next];
  },
  equal: (a, b) => a.every((x, i) => x === b[i]),
  hash: (s) => s.join(","),
};

function bankWorkload(buggyReplica?: number): SimWorkload<Transfer, boolean, Bank> {
  let created = 0;
  return {
    group: "bank",
    clients: 3,
    createStateMachine: () => new Bank(++created === buggyReplica ? 1 : 0),
    nextCommand: (_client, random) => ({
      from: random.int(3),
      to: random.int(3),
      amount: random.between(1, 60),
    }),
    invariant(replicas: readonly SimReplica<Bank>[]) {
      for (const r of replicas) {
        const total = r.machine.balances.reduce((a, b) => a + b, 0);
        if (total !== 300)
          return `${r.node}: balances sum to ${total} after index ${r.machine.lastIndex}`;
      }
      return undefined;
    },
    check(history) {
      const ops: Operation<Transfer, boolean>[] = history
        .filter((op) => op.outcome.type !== "fail")
        .map((op, id) => ({
          id,
          process: op.client,
          key: "bank",
          input: op.command,
          output: op.outcome.type === "ok" ? (op.outcome.result as boolean) : undefined,
          call: op.call,
          return: op.outcome.type === "ok" ? op.return : Number.POSITIVE_INFINITY,
        }));
      const result = checkLinearizability(bankModel, ops);
      return result.valid === true
        ? []
        : [`bank: ${result.valid === false ? result.explanation : result.reason}`];
    },
  };
}

describe("simulate with a user state machine", () => {
  const seed = envInt("SEED", 3);

  it("runs the user's workload with its invariant and final check", async () => {
    const result = await simulate({ seed, events: 8000, workloads: () => [bankWorkload()] });
    expect(result.violations, `SEED=${seed}`).toEqual([]);
    expect(result.operations["bank"]?.ok ?? 0).toBeGreaterThan(20);
  }, 120_000);

  it("reports a violation of the user's invariant", async () => {
    // The second state machine ever created pays a bonus: its replica creates money.
    const result = await simulate({ seed, events: 8000, workloads: () => [bankWorkload(2)] });
    expect(result.ok).toBe(false);
    expect(result.violations[0]?.kind, JSON.stringify(result.violations[0])).toBe(
      "workload-invariant",
    );
    expect(result.violations[0]?.detail).toMatch(/balances sum to/);
  }, 120_000);
});
