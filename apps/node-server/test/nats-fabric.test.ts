import type { FabricLogger, FabricMessage } from "@raft/server-integration";
import { FabricError } from "@raft/server-integration";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { NatsFabric, NatsFabricOptions } from "../src/fabric/nats-fabric";
import { createNatsFabric } from "../src/fabric/nats-fabric";
import { createAppLogger } from "../src/logger";
import type { InteropLimits, NatsServerProcess } from "./helpers/nats-server-process";
import { startNatsServer } from "./helpers/nats-server-process";
import { waitFor } from "./helpers/process-cluster";

/** A small max_payload so that the oversized case needs no large buffers. */
const LIMITS: InteropLimits = {
  maxPayload: 64 * 1024,
  maxControlLine: 4096,
  maxPendingBytes: 64 * 1024 * 1024,
  maxConnections: 1000,
  pingIntervalMs: 120_000,
  maxPingsOut: 2,
};

const logger = createAppLogger("fatal", "nats-fabric-test");
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** Collects what a subscription receives. */
function inbox(): { readonly got: FabricMessage[]; readonly handler: (m: FabricMessage) => void } {
  const got: FabricMessage[] = [];
  return { got, handler: (m) => got.push(m) };
}

/** Waits until `box` holds a message with payload `payload`; returns it. */
function received(box: { got: FabricMessage[] }, payload: string): Promise<FabricMessage> {
  return waitFor(
    `a message ${JSON.stringify(payload)}`,
    () => box.got.find((m) => text(m.data) === payload),
    5_000,
    10,
  );
}

/** Fails with the fabric's code, for `expect(...).toThrow`-style checks on the code. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof FabricError ? error.code : `not a FabricError: ${String(error)}`;
  }
}

describe("NatsFabric", () => {
  let nats: NatsServerProcess;
  const open: NatsFabric[] = [];

  const fabric = async (
    serverName: string,
    extra: Partial<NatsFabricOptions> = {},
  ): Promise<NatsFabric> => {
    const f = await createNatsFabric({
      serverName,
      servers: [`127.0.0.1:${nats.port}`],
      reconnectWaitMs: 100,
      logger,
      ...extra,
    });
    open.push(f);
    return f;
  };

  beforeAll(async () => {
    nats = await startNatsServer(LIMITS);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((f) => f.close()));
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it("delivers by exact subject and by wildcard to another server", async () => {
    const [a, b] = [await fabric("a"), await fabric("b")];
    const exact = inbox();
    const star = inbox();
    const tail = inbox();
    b.subscribe("$NRG.AE.g1", exact.handler);
    b.subscribe("$NRG.*.g1", star.handler);
    b.subscribe("$NRG.>", tail.handler);
    // A round trip through the server makes b's interest known before a publishes.
    await b.flush();
    expect(a.publish("$NRG.AE.g1", undefined, bytes("one"))).toEqual({ sent: 1, dropped: 0 });
    a.publish("$NRG.V.g1", undefined, bytes("two"));
    a.publish("$NRG.V.other.deeper", undefined, bytes("three"));
    const m = await received(exact, "one");
    expect(m.subject).toBe("$NRG.AE.g1");
    expect(m.reply).toBeUndefined();
    await received(star, "two");
    await received(tail, "three");
    expect(star.got.map((x) => text(x.data)).sort()).toEqual(["one", "two"]);
    expect(exact.got.map((x) => text(x.data))).toEqual(["one"]);
    const ma = a.metrics();
    expect(ma.messagesOut).toBe(3);
    expect(ma.connections).toBe(1);
    expect(b.metrics().deliveries).toBeGreaterThanOrEqual(6);
  });

  it("never delivers a server's own publish to itself", async () => {
    const [a, b] = [await fabric("a"), await fabric("b")];
    const atA = inbox();
    const atB = inbox();
    a.subscribe("t.self", atA.handler);
    a.subscribe("t.marker", atA.handler);
    b.subscribe("t.self", atB.handler);
    await a.flush();
    await b.flush();
    a.publish("t.self", undefined, bytes("from-a"));
    await received(atB, "from-a");
    // b saw it, so the server processed it; its marker to a is processed after, on the same server.
    b.publish("t.marker", undefined, bytes("marker"));
    await received(atA, "marker");
    expect(atA.got.map((m) => text(m.data))).toEqual(["marker"]);
  });

  it("passes reply subjects through, and a reply reaches the requester", async () => {
    const [a, b] = [await fabric("a"), await fabric("b")];
    const requests = inbox();
    const replies = inbox();
    b.subscribe("svc.echo", (m) => {
      requests.handler(m);
      if (m.reply !== undefined) b.publish(m.reply, undefined, m.data);
    });
    a.subscribe("rsp.a.1", replies.handler);
    await a.flush();
    await b.flush();
    a.publish("svc.echo", "rsp.a.1", bytes("ping"));
    expect((await received(requests, "ping")).reply).toBe("rsp.a.1");
    expect((await received(replies, "ping")).subject).toBe("rsp.a.1");
    // An empty reply is no reply.
    a.publish("svc.echo", "", bytes("no-reply"));
    expect((await received(requests, "no-reply")).reply).toBeUndefined();
  });

  it("stops delivery after unsubscribe", async () => {
    const [a, b] = [await fabric("a"), await fabric("b")];
    const box = inbox();
    const sub = b.subscribe("u.x", box.handler);
    b.subscribe("u.marker", box.handler);
    expect(sub.subject).toBe("u.x");
    await b.flush();
    a.publish("u.x", undefined, bytes("before"));
    await received(box, "before");
    sub.unsubscribe();
    sub.unsubscribe();
    await b.flush();
    a.publish("u.x", undefined, bytes("after"));
    a.publish("u.marker", undefined, bytes("marker"));
    await received(box, "marker");
    expect(box.got.map((m) => text(m.data))).toEqual(["before", "marker"]);
  });

  it("refuses bad subjects, oversized payloads and use after close with typed errors", async () => {
    const a = await fabric("a");
    expect(a.maxPayload()).toBe(LIMITS.maxPayload);
    for (const bad of ["", "a..b", "a.*", "a.>", "a b", ".a", "a."]) {
      expect(codeOf(() => a.publish(bad, undefined, bytes("x")))).toBe("INVALID_SUBJECT");
    }
    expect(codeOf(() => a.publish("ok", "bad reply", bytes("x")))).toBe("INVALID_SUBJECT");
    expect(codeOf(() => a.publish("ok", "r.*", bytes("x")))).toBe("INVALID_SUBJECT");
    for (const bad of ["", "a.>.b", "a..b", "a b"]) {
      expect(codeOf(() => a.subscribe(bad, () => {}))).toBe("INVALID_SUBJECT");
    }
    expect(codeOf(() => a.publish("big", undefined, new Uint8Array(LIMITS.maxPayload + 1)))).toBe(
      "PAYLOAD_TOO_LARGE",
    );
    expect(a.publish("big", undefined, new Uint8Array(LIMITS.maxPayload)).sent).toBe(1);
    await a.close();
    await a.close();
    expect(codeOf(() => a.publish("ok", undefined, bytes("x")))).toBe("CLOSED");
    expect(codeOf(() => a.subscribe("ok", () => {}))).toBe("CLOSED");
    expect(a.metrics().connections).toBe(0);
    expect(a.isConnected()).toBe(false);
  });

  it("counts a throwing handler and still delivers to the others", async () => {
    const [a, b] = [await fabric("a"), await fabric("b")];
    const box = inbox();
    b.subscribe("h.x", () => {
      throw new Error("handler bug");
    });
    b.subscribe("h.x", box.handler);
    await b.flush();
    a.publish("h.x", undefined, bytes("1"));
    a.publish("h.x", undefined, bytes("2"));
    await received(box, "2");
    await waitFor(
      "both errors counted",
      () => (b.metrics().handlerErrors === 2 ? true : undefined),
      2_000,
      10,
    );
    expect(b.isConnected()).toBe(true);
    // The connection is intact: more messages arrive.
    a.publish("h.x", undefined, bytes("3"));
    await received(box, "3");
  });

  it("keeps clusters with different subject prefixes apart and strips the prefix", async () => {
    const a1 = await fabric("a", { subjectPrefix: "c1" });
    const b1 = await fabric("b", { subjectPrefix: "c1" });
    const b2 = await fabric("b", { subjectPrefix: "c2.x" });
    const plain = await fabric("watcher");
    const in1 = inbox();
    const in2 = inbox();
    const raw = inbox();
    b1.subscribe("$NRG.>", in1.handler);
    b2.subscribe("$NRG.>", in2.handler);
    b2.subscribe("done", in2.handler);
    plain.subscribe("c1.$NRG.>", raw.handler);
    for (const f of [b1, b2, plain]) await f.flush();
    a1.publish("$NRG.AE.g", "$NRG.R.a", bytes("to-c1"));
    const m = await received(in1, "to-c1");
    expect(m).toMatchObject({ subject: "$NRG.AE.g", reply: "$NRG.R.a" });
    // On NATS the subjects carry the prefix.
    expect(await received(raw, "to-c1")).toMatchObject({
      subject: "c1.$NRG.AE.g",
      reply: "c1.$NRG.R.a",
    });
    plain.publish("c2.x.done", undefined, bytes("marker"));
    await received(in2, "marker");
    expect(in2.got.map((x) => text(x.data))).toEqual(["marker"]);
    await expect(
      createNatsFabric({
        serverName: "bad",
        servers: [`127.0.0.1:${nats.port}`],
        subjectPrefix: "a.*",
        logger,
      }),
    ).rejects.toMatchObject({ code: "INVALID_SUBJECT" });
  });

  it("fails to start with SOCKET_ERROR when no NATS server answers", async () => {
    await expect(
      createNatsFabric({
        serverName: "lonely",
        // Port 1 on loopback: nothing listens there in the test environment.
        servers: ["127.0.0.1:1"],
        connectTimeoutMs: 1_000,
        logger,
      }),
    ).rejects.toMatchObject({ code: "SOCKET_ERROR" });
  });
});

describe("NatsFabric with an authenticating nats-server", () => {
  let nats: NatsServerProcess | undefined;

  afterAll(async () => {
    await nats?.stop();
  });

  it("connects with user/pass, and fails with SOCKET_ERROR without them", async () => {
    nats = await startNatsServer(LIMITS, {
      extraConfig: ['authorization { user: "raft", password: "s3cret" }'],
    });
    const servers = [`127.0.0.1:${nats.port}`];
    const a = await createNatsFabric({
      serverName: "a",
      servers,
      user: "raft",
      pass: "s3cret",
      logger,
    });
    const b = await createNatsFabric({
      serverName: "b",
      servers,
      user: "raft",
      pass: "s3cret",
      logger,
    });
    try {
      const box = inbox();
      b.subscribe("auth.x", box.handler);
      await b.flush();
      a.publish("auth.x", undefined, bytes("authorized"));
      await received(box, "authorized");
    } finally {
      await a.close();
      await b.close();
    }
    await expect(
      createNatsFabric({ serverName: "c", servers, user: "raft", pass: "wrong", logger }),
    ).rejects.toMatchObject({ code: "SOCKET_ERROR" });
    await expect(createNatsFabric({ serverName: "d", servers, logger })).rejects.toMatchObject({
      code: "SOCKET_ERROR",
    });
  });

  it("counts a subscription the account may not make, and stays connected", async () => {
    await nats?.stop();
    nats = await startNatsServer(LIMITS, {
      extraConfig: [
        'authorization { users: [ { user: "limited", password: "p", permissions: { subscribe: { deny: "secret.>" } } } ] }',
      ],
    });
    const servers = [`127.0.0.1:${nats.port}`];
    const a = await createNatsFabric({
      serverName: "a",
      servers,
      user: "limited",
      pass: "p",
      logger,
    });
    try {
      a.subscribe("secret.x", () => {});
      await waitFor(
        "the permissions violation",
        () => (a.metrics().protocolErrors > 0 ? true : undefined),
        5_000,
        10,
      );
      await a.flush();
      expect(a.isConnected()).toBe(true);
    } finally {
      await a.close();
    }
  });

  it("connects with a token", async () => {
    await nats?.stop();
    nats = await startNatsServer(LIMITS, { extraConfig: ['authorization { token: "t0ken" }'] });
    const servers = [`127.0.0.1:${nats.port}`];
    const a = await createNatsFabric({ serverName: "a", servers, token: "t0ken", logger });
    try {
      expect(a.isConnected()).toBe(true);
      await a.flush();
    } finally {
      await a.close();
    }
    await expect(
      createNatsFabric({ serverName: "b", servers, token: "nope", logger }),
    ).rejects.toMatchObject({ code: "SOCKET_ERROR" });
  });
});

/** A logger port that keeps what it is given (a fake of the port, not of our code). */
function recordingLogger(): FabricLogger & { readonly events: string[] } {
  const events: string[] = [];
  const log = (_obj: object, msg: string): void => {
    events.push(msg);
  };
  return { events, debug: log, info: log, warn: log, error: log };
}

describe("NatsFabric across a nats-server restart", () => {
  let nats: NatsServerProcess | undefined;

  afterAll(async () => {
    await nats?.stop();
  });

  it("drops and counts publishes while disconnected, and delivers again after reconnecting", async () => {
    nats = await startNatsServer(LIMITS);
    const port = nats.port;
    const aLog = recordingLogger();
    const opts = { servers: [`127.0.0.1:${port}`], reconnectWaitMs: 100, logger };
    const a = await createNatsFabric({ serverName: "a", ...opts, logger: aLog });
    const b = await createNatsFabric({ serverName: "b", ...opts });
    try {
      const box = inbox();
      b.subscribe("r.x", box.handler);
      await b.flush();
      a.publish("r.x", undefined, bytes("before"));
      await received(box, "before");

      nats.child.kill("SIGKILL");
      await waitFor("the kill to be seen", () => (a.isConnected() ? undefined : true), 5_000, 10);
      await waitFor("b to see it", () => (b.isConnected() ? undefined : true), 5_000, 10);
      const dropped = 200;
      for (let i = 0; i < dropped; i++) {
        expect(a.publish("r.x", undefined, bytes(`lost-${i}`))).toEqual({ sent: 0, dropped: 1 });
      }
      expect(a.metrics()).toMatchObject({ messagesDropped: dropped, connections: 0 });
      await nats.stop();

      nats = await startNatsServer(LIMITS, { port });
      await waitFor("a to reconnect", () => (a.isConnected() ? true : undefined), 10_000, 20);
      await waitFor("b to reconnect", () => (b.isConnected() ? true : undefined), 10_000, 20);
      // b's subscription is re-sent by the client on reconnect; retry until it is in place.
      let n = 0;
      await waitFor(
        "a message after the restart",
        () => {
          a.publish("r.x", undefined, bytes(`after-${n++}`));
          return box.got.some((m) => text(m.data).startsWith("after-")) ? true : undefined;
        },
        10_000,
        50,
      );
      expect(box.got.some((m) => text(m.data).startsWith("lost-"))).toBe(false);
      const m = a.metrics();
      expect(m.messagesDropped).toBe(dropped);
      expect(m.reconnects).toBe(1);
      expect(m.connectionsOpened).toBe(2);
      expect(m.connectionsClosed).toBe(1);
      expect(m.connections).toBe(1);
      // Each state change was logged once; dropping was warned about once, not per message.
      const changes = aLog.events.filter((e) => e.startsWith("nats "));
      expect(changes).toEqual([
        "nats fabric connected",
        "nats disconnected",
        "nats disconnected: dropping publishes",
        "nats reconnected",
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
