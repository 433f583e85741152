import type { AppliedCommand } from "@raft/server-integration";
import {
  type SimOperation,
  type SimReplica,
  type SimWorkload,
  simulate,
} from "@raft/server-integration/testing";
import { describe, expect, it } from "vitest";
import {
  createStreamStateMachine,
  encodeHeaderBlock,
  encodeStreamSnapshot,
  type PubAck,
  type StreamCommand,
  type StreamCommandResult,
  type StreamStateMachine,
} from "../src/index";

const decoder = new TextDecoder();
type Op = SimOperation<StreamCommand, StreamCommandResult>;

function seedFromEnv(fallback: number): number {
  const text = process.env["SEED"];
  return text === undefined || text === "" ? fallback : Number(text);
}

function dataOf(command: StreamCommand): string {
  return command.op === "publish" ? decoder.decode(command.data) : "";
}

function isAck(result: StreamCommandResult): result is PubAck {
  return "seq" in result && !("error" in result);
}

/** Where each payload sits in a replica: payload → sequence. */
function positions(machine: StreamStateMachine): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of machine.store.messages()) out.set(decoder.decode(m.data), m.seq);
  return out;
}

/** Checks a stream history: a linearizable log (acked messages present, in real-time order). */
function checkStream(
  history: readonly Op[],
  replicas: readonly SimReplica<StreamStateMachine>[],
): string[] {
  const problems: string[] = [];
  const newest = [...replicas].sort((a, b) => b.applied - a.applied)[0];
  if (newest === undefined) return ["stream: no replica"];
  const stored = positions(newest.machine);
  const invoked = new Set(history.map((op) => dataOf(op.command)));
  const acked: { op: Op; seq: number }[] = [];
  for (const op of history) {
    const data = dataOf(op.command);
    if (op.outcome.type === "ok") {
      const result = op.outcome.result;
      if (!isAck(result)) problems.push(`${data}: publish answered ${JSON.stringify(result)}`);
      else if (stored.get(data) !== result.seq) {
        problems.push(`${data}: acked as seq ${result.seq}, stored at ${stored.get(data)}`);
      } else acked.push({ op, seq: result.seq });
    } else if (op.outcome.type === "fail" && stored.has(data)) {
      problems.push(`${data}: failed but stored at ${stored.get(data)}`);
    }
  }
  for (const data of stored.keys()) {
    if (!invoked.has(data)) problems.push(`${data}: stored but never published`);
  }
  for (const a of acked) {
    for (const b of acked) {
      if (a.op.return < b.op.call && a.seq >= b.seq) {
        problems.push(
          `order: ${dataOf(a.op.command)} completed before ${dataOf(b.op.command)} began, yet seq ${a.seq} >= ${b.seq}`,
        );
      }
    }
  }
  const bytes = new Set(
    replicas
      .filter((r) => r.applied === newest.applied)
      .map((r) => Buffer.from(encodeStreamSnapshot(r.machine.store)).toString("hex")),
  );
  if (bytes.size > 1) problems.push("replicas at the same applied index hold different states");
  return problems.slice(0, 8).map((p) => `stream: ${p}`);
}

/**
 * Clients publish unique payloads (each with a unique `Nats-Msg-Id`) on three subjects. To show
 * the checks fail: `buggy` = n makes the n-th created replica skip every seventh command (a
 * divergent replica); `buggy` = "all" makes every replica skip them, yet acknowledge them (an
 * acknowledged message lost everywhere, which only the final check can see).
 */
function streamWorkload(
  buggy?: number | "all",
): SimWorkload<StreamCommand, StreamCommandResult, StreamStateMachine> {
  let created = 0;
  let tick = 0;
  const counters = [0, 0, 0];
  return {
    group: "S-R3F-SIMSTRM1",
    clients: 3,
    createStateMachine(): StreamStateMachine {
      const sm = createStreamStateMachine({ name: "SIM", subjects: ["sim.*"] });
      if (++created !== buggy && buggy !== "all") return sm;
      const apply = sm.apply.bind(sm);
      return Object.assign(Object.create(sm) as StreamStateMachine, {
        apply: (commands: readonly AppliedCommand<StreamCommand>[]) =>
          apply(commands.filter((c) => c.index % 7 !== 0)).concat(
            commands.filter((c) => c.index % 7 === 0).map(() => ({ stream: "SIM", seq: 0 })),
          ),
      });
    },
    nextCommand(client, random): StreamCommand {
      const id = `c${client}-${++(counters[client] as number)}`;
      tick += 5;
      return {
        op: "publish",
        subject: `sim.${random.int(3)}`,
        headers: encodeHeaderBlock({ "Nats-Msg-Id": id }),
        data: new TextEncoder().encode(id),
        ts: tick,
      };
    },
    invariant(replicas): string | undefined {
      // Replicas agree on the message at the lower of their last sequences.
      for (let i = 1; i < replicas.length; i++) {
        const a = replicas[0]?.machine.store;
        const b = replicas[i]?.machine.store;
        if (a === undefined || b === undefined) continue;
        const n = Math.min(a.state().last_seq, b.state().last_seq);
        const da = a.get(n)?.data;
        const db = b.get(n)?.data;
        if (da !== undefined && db !== undefined && decoder.decode(da) !== decoder.decode(db)) {
          return `stream: replicas differ at seq ${n}`;
        }
      }
      return undefined;
    },
    check: (history, replicas) => checkStream(history, replicas),
  };
}

describe("the stream state machine under the simulator (crashes, partitions, disk faults)", () => {
  const env = process.env["SEED"];
  const seeds = env === undefined || env === "" ? [5, 11, 19] : [seedFromEnv(5)];

  for (const seed of seeds) {
    it(`keeps a linearizable log of acknowledged publishes on every replica (SEED=${seed})`, async () => {
      const result = await simulate({
        seed,
        events: 6000,
        trace: "off",
        workloads: () => [streamWorkload()],
      });
      expect(result.violations, result.replay).toEqual([]);
      expect(result.operations["S-R3F-SIMSTRM1"]?.ok ?? 0, result.replay).toBeGreaterThan(20);
      expect(result.restarts, result.replay).toBeGreaterThan(0);
    }, 60_000);
  }

  it("reports a replica that drops messages through the invariant", async () => {
    const result = await simulate({
      seed: 5,
      events: 6000,
      trace: "off",
      workloads: () => [streamWorkload(2)],
    });
    expect(
      result.violations.map((v) => v.kind),
      result.replay,
    ).toContain("workload-invariant");
  }, 60_000);

  it("reports acknowledged messages lost on every replica through the final check", async () => {
    const result = await simulate({
      seed: 5,
      events: 6000,
      trace: "off",
      workloads: () => [streamWorkload("all")],
    });
    const kinds = result.violations.map((v) => v.kind);
    expect(kinds, result.replay).toContain("history");
    expect(kinds, result.replay).not.toContain("workload-invariant");
  }, 60_000);
});
