import { describe, expect, it, onTestFailed } from "vitest";
import { FabricError } from "../../src/fabric/fabric-error";
import type { MemoryNetwork } from "../../src/fabric/memory-network";
import { createMemoryNetwork } from "../../src/fabric/memory-network";
import { createSeededRandom } from "../../src/fabric/seeded-random";
import type { Fabric, FabricMessage } from "../../src/fabric/types";
import { bytes, createCapturingLogger, testSeed, text, waitFor } from "./helpers";

function inbox(fabric: Fabric, subject: string): FabricMessage[] {
  const got: FabricMessage[] = [];
  fabric.subscribe(subject, (m) => got.push(m));
  return got;
}

function threeServers(network: MemoryNetwork): [Fabric, Fabric, Fabric] {
  return [network.createFabric("a"), network.createFabric("b"), network.createFabric("c")];
}

function seeded(fallback: number): { seed: number; network: MemoryNetwork } {
  const seed = testSeed(fallback);
  onTestFailed(() => console.error(`memory network seed: SEED=${seed}`));
  return { seed, network: createMemoryNetwork({ random: createSeededRandom(seed) }) };
}

describe("MemoryNetwork", () => {
  it("delivers to every other interested server, never to the publisher itself", () => {
    const network = createMemoryNetwork();
    const [a, b, c] = threeServers(network);
    const [atA, atB, atC] = [inbox(a, "$NRG.AE.g"), inbox(b, "$NRG.AE.g"), inbox(c, "$NRG.AE.g")];
    const result = a.publish("$NRG.AE.g", "$NRG.R.abcdefgh", bytes("hello"));
    expect(result).toEqual({ sent: 2, dropped: 0 });
    expect(network.pending()).toBe(2);
    expect(network.flush()).toBe(2);
    expect(atA).toEqual([]);
    expect(atB.map((m) => [m.subject, m.reply, text(m.data)])).toEqual([
      ["$NRG.AE.g", "$NRG.R.abcdefgh", "hello"],
    ]);
    expect(atC).toHaveLength(1);
    expect(a.metrics()).toMatchObject({ messagesOut: 2, bytesOut: 10, messagesIn: 0 });
    expect(b.metrics()).toMatchObject({ messagesIn: 1, bytesIn: 5, deliveries: 1, connections: 2 });
    network.partition([["a"], ["b", "c"]]);
    expect(a.metrics().connections).toBe(0);
    expect(b.metrics().connections).toBe(1);
  });

  it("copies the payload so the publisher may reuse its buffer", () => {
    const network = createMemoryNetwork();
    const [a, b] = threeServers(network);
    const got = inbox(b, "x");
    const buffer = bytes("one");
    a.publish("x", undefined, buffer);
    buffer.set(bytes("two"));
    network.flush();
    expect(text(got[0]?.data ?? new Uint8Array())).toBe("one");
    expect(got[0]?.reply).toBeUndefined();
  });

  it("routes * and > subscriptions, so $NRG.> captures all Raft traffic", () => {
    const network = createMemoryNetwork();
    const [a, b, c] = threeServers(network);
    const all = inbox(c, "$NRG.>");
    const votes = inbox(b, "$NRG.V.*");
    a.publish("$NRG.V.g1", undefined, bytes("v"));
    a.publish("$NRG.AE.g1", undefined, bytes("ae"));
    a.publish("$NRG.V.g1.extra", undefined, bytes("no"));
    a.publish("other", undefined, bytes("no"));
    network.flush();
    expect(all.map((m) => m.subject)).toEqual(["$NRG.V.g1", "$NRG.AE.g1", "$NRG.V.g1.extra"]);
    expect(votes.map((m) => m.subject)).toEqual(["$NRG.V.g1"]);
  });

  it("sends nothing to a server whose subscription was removed", () => {
    const network = createMemoryNetwork();
    const [a, b] = threeServers(network);
    const got: FabricMessage[] = [];
    const sub = b.subscribe("x", (m) => got.push(m));
    expect(a.publish("x", undefined, bytes("1")).sent).toBe(1);
    sub.unsubscribe();
    sub.unsubscribe();
    expect(a.publish("x", undefined, bytes("2")).sent).toBe(0);
    network.flush();
    expect(got).toEqual([]);
  });

  it("cuts links across a partition, including copies in flight, until heal", () => {
    const network = createMemoryNetwork();
    const [a, b, c] = threeServers(network);
    const atB = inbox(b, "x");
    const atC = inbox(c, "x");
    a.publish("x", undefined, bytes("before"));
    network.partition([["a", "b"], ["c"]]);
    network.flush();
    expect(atB).toHaveLength(1);
    expect(atC).toHaveLength(0);
    a.publish("x", undefined, bytes("during"));
    network.flush();
    expect(atC).toHaveLength(0);
    expect(atB).toHaveLength(2);
    network.heal();
    a.publish("x", undefined, bytes("after"));
    network.flush();
    expect(text(atC[0]?.data ?? new Uint8Array())).toBe("after");
    expect(network.stats().droppedByPartition).toBe(2);
  });

  it("isolates servers not named in any partition group", () => {
    const network = createMemoryNetwork();
    const [a, b, c] = threeServers(network);
    const atB = inbox(b, "x");
    const atA = inbox(a, "x");
    network.partition([["a", "b"]]);
    c.publish("x", undefined, bytes("lost"));
    network.flush();
    expect(atA.length + atB.length).toBe(0);
  });

  it("blocks one direction only", () => {
    const network = createMemoryNetwork();
    const [a, b] = threeServers(network);
    const atA = inbox(a, "x");
    const atB = inbox(b, "x");
    network.block("a", "b");
    a.publish("x", undefined, bytes("a->b"));
    b.publish("x", undefined, bytes("b->a"));
    network.flush();
    expect(atB).toHaveLength(0);
    expect(atA).toHaveLength(1);
    network.unblock("a", "b");
    a.publish("x", undefined, bytes("a->b"));
    network.flush();
    expect(atB).toHaveLength(1);
  });

  it("drops about the configured fraction, and all or none at 1 and 0", () => {
    const { network } = seeded(7);
    const [a, b] = threeServers(network);
    const got = inbox(b, "x");
    network.setFaults({ dropProbability: 0.3 });
    for (let i = 0; i < 2000; i++) a.publish("x", undefined, bytes(String(i)));
    network.flush();
    expect(got.length).toBeGreaterThan(1200);
    expect(got.length).toBeLessThan(1600);
    expect(network.stats().droppedByFault).toBe(2000 - got.length);
    network.setFaults({ dropProbability: 1 }, { from: "a", to: "b" });
    network.setFaults({ dropProbability: 0 });
    const before = got.length;
    a.publish("x", undefined, bytes("gone"));
    network.flush();
    expect(got.length).toBe(before);
    network.clearFaults();
    a.publish("x", undefined, bytes("kept"));
    network.flush();
    expect(got.length).toBe(before + 1);
  });

  it("duplicates copies", () => {
    const { network } = seeded(11);
    const [a, b] = threeServers(network);
    const got = inbox(b, "x");
    network.setFaults({ duplicateProbability: 1 });
    for (let i = 0; i < 10; i++) a.publish("x", undefined, bytes(String(i)));
    network.flush();
    expect(got).toHaveLength(20);
    expect(network.stats().duplicated).toBe(10);
  });

  it("reorders copies yet delivers all of them", () => {
    const { network } = seeded(13);
    const [a, b] = threeServers(network);
    const got = inbox(b, "x");
    network.setFaults({ reorderProbability: 0.3, reorderDelayMs: 2 });
    for (let i = 0; i < 100; i++) a.publish("x", undefined, bytes(String(i)));
    network.flush();
    const order = got.map((m) => Number(text(m.data)));
    expect([...order].sort((x, y) => x - y)).toEqual([...Array(100).keys()]);
    expect(order).not.toEqual([...Array(100).keys()]);
  });

  it("delivers after the sampled delay, on the owner's clock", () => {
    const { network } = seeded(17);
    const [a, b] = threeServers(network);
    const got = inbox(b, "x");
    network.setFaults({ delayMs: [5, 10] });
    for (let i = 0; i < 50; i++) a.publish("x", undefined, bytes(String(i)));
    expect(network.nextDueAt()).toBeGreaterThanOrEqual(5);
    expect(network.deliverDue(4)).toBe(0);
    expect(network.deliverDue(10)).toBe(50);
    expect(network.now()).toBe(10);
    expect(network.pending()).toBe(0);
    expect(network.nextDueAt()).toBeUndefined();
    expect(got).toHaveLength(50);
    // Published at t=10: due in [15, 20].
    a.publish("x", undefined, bytes("late"));
    expect(network.deliverDue(14)).toBe(0);
    expect(network.deliverDue(20)).toBe(1);
  });

  it("replays the same run from the same seed and a different one from another", () => {
    const run = (seed: number): string[] => {
      const network = createMemoryNetwork({ random: createSeededRandom(seed) });
      const [a, b, c] = threeServers(network);
      const log: string[] = [];
      for (const f of [a, b, c])
        f.subscribe("x.*", (m) => log.push(`${f.serverName}<${text(m.data)}`));
      network.setFaults({
        dropProbability: 0.1,
        duplicateProbability: 0.1,
        reorderProbability: 0.2,
        delayMs: [0, 20],
      });
      for (let t = 0; t < 100; t++) {
        [a, b, c][t % 3]?.publish(`x.${t % 5}`, undefined, bytes(String(t)));
        network.deliverDue(t);
      }
      network.flush();
      return log;
    };
    const seed = testSeed(21);
    onTestFailed(() => console.error(`memory network seed: SEED=${seed}`));
    expect(run(seed)).toEqual(run(seed));
    expect(run(seed)).not.toEqual(run(seed + 1));
  });

  it("answers a request on the reply subject", () => {
    const network = createMemoryNetwork();
    const [a, b] = threeServers(network);
    b.subscribe("$NRG.V.g", (m) => {
      if (m.reply !== undefined) b.publish(m.reply, undefined, bytes(`granted:${text(m.data)}`));
    });
    const replies = inbox(a, "$NRG.R.inbox001");
    a.publish("$NRG.V.g", "$NRG.R.inbox001", bytes("term5"));
    network.flush();
    expect(replies.map((m) => text(m.data))).toEqual(["granted:term5"]);
  });

  it("delivers on real timers in timers mode", async () => {
    const network = createMemoryNetwork({ delivery: "timers", random: createSeededRandom(3) });
    try {
      const [a, b] = threeServers(network);
      const got = inbox(b, "x");
      network.setFaults({ delayMs: [10, 20] });
      a.publish("x", undefined, bytes("1"));
      a.publish("x", undefined, bytes("2"));
      expect(got).toHaveLength(0);
      await waitFor(() => got.length === 2, "timer delivery", 2_000);
    } finally {
      network.close();
    }
  });

  it("bounds the queue and the work of one delivery call", () => {
    const network = createMemoryNetwork({ maxPending: 5, maxDeliveriesPerCall: 100 });
    const [a, b] = threeServers(network);
    inbox(b, "x");
    let dropped = 0;
    for (let i = 0; i < 8; i++) dropped += a.publish("x", undefined, bytes("m")).dropped;
    expect(dropped).toBe(3);
    expect(a.metrics().messagesDropped).toBe(3);
    network.flush();
    // Two servers that answer every message forever: one call stops at its bound.
    a.subscribe("ping", () => a.publish("ping", undefined, bytes("p")));
    b.subscribe("ping", () => b.publish("ping", undefined, bytes("p")));
    a.publish("ping", undefined, bytes("p"));
    expect(network.flush()).toBe(100);
    expect(network.pending()).toBe(1);
  });

  it("keeps delivering to others when a handler throws, and counts the error", () => {
    const logger = createCapturingLogger();
    const network = createMemoryNetwork();
    const a = network.createFabric("a");
    const b = network.createFabric("b", { logger });
    b.subscribe("x", () => {
      throw new Error("boom");
    });
    const got = inbox(b, "x");
    a.publish("x", undefined, bytes("1"));
    network.flush();
    expect(got).toHaveLength(1);
    expect(b.metrics().handlerErrors).toBe(1);
    expect(
      logger.records.some((r) => r.level === "error" && r.msg === "subscription handler threw"),
    ).toBe(true);
  });

  it("rejects bad subjects, oversized payloads, reused names and closed fabrics", async () => {
    const network = createMemoryNetwork({ maxPayloadBytes: 4 });
    const a = network.createFabric("a");
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        return err instanceof FabricError ? err.code : "not a FabricError";
      }
      return undefined;
    };
    expect(code(() => a.publish("a..b", undefined, bytes("")))).toBe("INVALID_SUBJECT");
    expect(code(() => a.publish("a.*", undefined, bytes("")))).toBe("INVALID_SUBJECT");
    expect(code(() => a.publish("a", "r.>", bytes("")))).toBe("INVALID_SUBJECT");
    expect(code(() => a.subscribe("a.>.b", () => {}))).toBe("INVALID_SUBJECT");
    expect(code(() => a.publish("a", undefined, bytes("12345")))).toBe("PAYLOAD_TOO_LARGE");
    expect(code(() => network.createFabric("a"))).toBe("NAME_IN_USE");
    expect(code(() => a.publish("a", "", bytes("")))).toBeUndefined();
    await a.close();
    expect(code(() => a.publish("a", undefined, bytes("")))).toBe("CLOSED");
    expect(code(() => a.subscribe("a", () => {}))).toBe("CLOSED");
    // A restarted server reuses its name.
    const again = network.createFabric("a");
    expect(again.serverName).toBe("a");
    network.close();
    expect(code(() => network.createFabric("z"))).toBe("CLOSED");
  });

  it("does not deliver copies queued for a server that closed, even after a restart", async () => {
    const network = createMemoryNetwork();
    const [a, b] = threeServers(network);
    inbox(b, "x");
    a.publish("x", undefined, bytes("1"));
    await b.close();
    // The restarted server has the same name but is another instance: in-flight copies for the
    // old one die with its connections, as they would over TCP.
    const restarted = network.createFabric("b");
    const got = inbox(restarted, "x");
    expect(network.flush()).toBe(0);
    expect(got).toEqual([]);
    expect(network.stats().droppedUndeliverable).toBe(1);
  });
});
