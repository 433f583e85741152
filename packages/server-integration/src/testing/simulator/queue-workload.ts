import type { AppliedCommand, StateMachine } from "../../server/types";
import type { HistoryEvent } from "../checkers/history";
import { checkQueue } from "../checkers/queue-checker";
import type { SimCheckContext, SimOperation, SimReplica, SimWorkload } from "./workload";

/** A command of the queue state machine: append a unique `producer-counter` value. */
export interface QueueCommand {
  readonly t: "append";
  readonly v: string;
}

/** The replicated queue: every applied value in log order. Result of an append: its position. */
export class QueueStateMachine implements StateMachine<QueueCommand, number> {
  values: string[] = [];
  /** Raft index of each value (for reports). */
  indexes: number[] = [];

  apply(commands: readonly AppliedCommand<QueueCommand>[]): number[] {
    return commands.map(({ index, command }) => {
      this.indexes.push(index);
      return this.values.push(command.v) - 1;
    });
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([this.values, this.indexes]));
  }

  restore(data: Uint8Array): void {
    [this.values, this.indexes] = JSON.parse(new TextDecoder().decode(data)) as [
      string[],
      number[],
    ];
  }
}

/** Options of {@link queueWorkload}. */
export interface QueueWorkloadOptions {
  /** Group name. Default `"queue"`. */
  readonly group?: string;
  /** Producers. Default 2. */
  readonly producers?: number;
}

/**
 * The queue workload (Jepsen's queue workload): producers append unique `p<client>-<counter>`
 * values; at the end every running node's applied sequence is read back and `checkQueue` reports
 * lost (prefix / middle / postfix), unexpected, failed-but-read and divergent values, and
 * real-time order violations. Per-node loss counts: after the heal every node must hold every
 * acknowledged value.
 */
export function queueWorkload(
  options: QueueWorkloadOptions = {},
): SimWorkload<QueueCommand, number, QueueStateMachine> {
  const producers = options.producers ?? 2;
  const counters = new Array<number>(producers).fill(0);
  return {
    group: options.group ?? "queue",
    clients: producers,
    createStateMachine: (): QueueStateMachine => new QueueStateMachine(),
    nextCommand(client: number): QueueCommand {
      return { t: "append", v: `p${client}-${++(counters[client] as number)}` };
    },
    invariant(replicas: readonly SimReplica<QueueStateMachine>[]): string | undefined {
      // Two replicas agree on their common prefix (cheap: compare the last common position).
      for (let i = 1; i < replicas.length; i++) {
        const a = replicas[0] as SimReplica<QueueStateMachine>;
        const b = replicas[i] as SimReplica<QueueStateMachine>;
        const n = Math.min(a.machine.values.length, b.machine.values.length);
        if (n > 0 && a.machine.values[n - 1] !== b.machine.values[n - 1]) {
          const at = (r: SimReplica<QueueStateMachine>): string =>
            `${r.node} holds ${r.machine.values[n - 1]} (index ${r.machine.indexes[n - 1]})`;
          return `queue: replicas differ at position ${n - 1}: ${at(a)}, ${at(b)}`;
        }
      }
      return undefined;
    },
    check(
      history: readonly SimOperation<QueueCommand, number>[],
      replicas: readonly SimReplica<QueueStateMachine>[],
      context: SimCheckContext,
    ): readonly string[] {
      const events: HistoryEvent[] = [];
      const completions: HistoryEvent[] = [];
      for (const op of history) {
        events.push({
          process: op.client,
          type: "invoke",
          f: "append",
          value: op.command.v,
          time: op.call,
        });
        completions.push({
          process: op.client,
          type: op.outcome.type,
          f: "append",
          value: op.command.v,
          time: op.return,
        });
      }
      // pairHistory wants each process's events in order: merge by time.
      const merged = [...events, ...completions].sort((a, b) => a.time - b.time);
      const report = checkQueue(
        {
          history: merged,
          reads: replicas.map((r) => ({ node: r.node, values: r.machine.values })),
        },
        { allowNodeLag: !context.converged },
      );
      if (report.valid) return [];
      const parts: string[] = [];
      if (report.lost.count > 0) {
        parts.push(
          `lost ${report.lost.count} (prefix ${report.lost.prefix.length}, middle ${report.lost.middle.length}, postfix ${report.lost.postfix.length}): ${report.lost.middle.concat(report.lost.prefix, report.lost.postfix).slice(0, 8).join(" ")}`,
        );
      }
      if (report.unexpected.length > 0)
        parts.push(`unexpected ${report.unexpected.slice(0, 8).join(" ")}`);
      if (report.failedButRead.length > 0)
        parts.push(`failed but read ${report.failedButRead.slice(0, 8).join(" ")}`);
      for (const n of report.nodes) {
        if (!n.valid)
          parts.push(`node ${n.node} lost ${n.lost.count} (middle ${n.lost.middle.length})`);
      }
      for (const d of report.divergentReplicas.slice(0, 3)) {
        parts.push(`divergent ${d.nodeA}/${d.nodeB} at ${d.position}: ${d.valueA} vs ${d.valueB}`);
      }
      if (report.orderViolationCount > 0)
        parts.push(`${report.orderViolationCount} real-time order violations`);
      return [`queue: ${parts.join("; ")}`];
    },
  };
}
