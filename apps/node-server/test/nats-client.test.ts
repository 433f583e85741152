import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { connect, headers } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientListener } from "../src/nats/client-listener";
import { waitFor } from "./helpers/process-cluster";
import { RawClient, startTestListener } from "./helpers/raw-nats";

const listeners: ClientListener[] = [];
const clients: NatsConnection[] = [];
const raws: RawClient[] = [];

async function listen(
  limits: Parameters<typeof startTestListener>[0] = {},
): Promise<ClientListener> {
  const l = await startTestListener(limits);
  listeners.push(l);
  return l;
}

async function client(
  l: ClientListener,
  options: { noEcho?: boolean } = {},
): Promise<NatsConnection> {
  const nc = await connect({
    servers: `127.0.0.1:${l.address.port}`,
    reconnect: false,
    ...options,
  });
  clients.push(nc);
  return nc;
}

async function raw(l: ClientListener): Promise<RawClient> {
  const r = await RawClient.open(l.address.port);
  raws.push(r);
  return r;
}

/** Subscribes and collects every message into an array. */
function collect(nc: NatsConnection, subject: string, opts: { queue?: string; max?: number } = {}) {
  const got: Msg[] = [];
  const sub = nc.subscribe(subject, {
    ...opts,
    callback: (_err, m) => {
      got.push(m);
    },
  });
  return { got, sub };
}

afterEach(async () => {
  for (const r of raws.splice(0)) r.destroy();
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

describe("NATS client listener with the nats.js client", () => {
  it("sends INFO with the server's identity and limits", async () => {
    const l = await listen({ maxPayload: 200_000 });
    const nc = await client(l);
    expect(nc.info).toMatchObject({
      server_id: "TESTNODE",
      server_name: "test",
      proto: 1,
      headers: true,
      max_payload: 200_000,
      port: l.address.port,
    });
    expect(nc.info?.client_id).toBeGreaterThan(0);
    await nc.flush();
    expect(await nc.rtt()).toBeGreaterThanOrEqual(0);
  });

  it("delivers published messages to subscribers on the same node, with wildcards", async () => {
    const l = await listen();
    const pub = await client(l);
    const sub = await client(l);
    const exact = collect(sub, "orders.eu.new");
    const star = collect(sub, "orders.*.new");
    const tail = collect(sub, "orders.>");
    const other = collect(sub, "orders.*");
    await sub.flush();
    pub.publish("orders.eu.new", "one");
    pub.publish("orders.us.new", "two");
    pub.publish("orders.eu.new.rush", "three");
    await pub.flush();
    await waitFor(
      "3 messages on orders.>",
      () => (tail.got.length === 3 ? true : undefined),
      5_000,
    );
    await sub.flush();
    expect(exact.got.map((m) => m.string())).toEqual(["one"]);
    expect(star.got.map((m) => m.string())).toEqual(["one", "two"]);
    expect(tail.got.map((m) => m.subject)).toEqual([
      "orders.eu.new",
      "orders.us.new",
      "orders.eu.new.rush",
    ]);
    expect(other.got).toEqual([]);
  });

  it("gives each message to one member of a queue group and to every plain subscriber", async () => {
    const l = await listen();
    const a = await client(l);
    const b = await client(l);
    const members = [
      collect(a, "jobs", { queue: "workers" }),
      collect(a, "jobs", { queue: "workers" }),
      collect(b, "jobs", { queue: "workers" }),
    ];
    const audit = collect(b, "jobs");
    await a.flush();
    await b.flush();
    const pub = await client(l);
    for (let i = 0; i < 60; i++) pub.publish("jobs", String(i));
    await pub.flush();
    await waitFor("60 audited", () => (audit.got.length === 60 ? true : undefined), 5_000);
    await a.flush();
    await b.flush();
    const delivered = members.flatMap((m) => m.got.map((x) => Number(x.string())));
    expect(delivered.sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // Random choice: with 60 messages every member gets some (probability of failure ~1e-10).
    for (const m of members) expect(m.got.length).toBeGreaterThan(0);
  });

  it("carries headers (HPUB/HMSG) and strips them for a client that did not ask for them", async () => {
    const l = await listen();
    const nc = await client(l);
    const plain = await raw(l);
    plain.send('CONNECT {"verbose":false}\r\nSUB with.headers 7\r\nPING\r\n');
    await plain.waitForText("PONG");
    const { got } = collect(nc, "with.headers");
    await nc.flush();
    const h = headers();
    h.set("X-Trace", "abc-123");
    nc.publish("with.headers", "body", { headers: h });
    await waitFor("the message", () => (got.length === 1 ? true : undefined), 5_000);
    expect(got[0]?.headers?.get("X-Trace")).toBe("abc-123");
    expect(got[0]?.string()).toBe("body");
    await plain.waitForText("MSG with.headers 7 4\r\nbody\r\n");
    expect(plain.text).not.toContain("HMSG");
  });

  it("answers requests between two clients, and fails a request nobody listens to with no responders", async () => {
    const l = await listen();
    const responder = await client(l);
    responder.subscribe("greet.*", {
      callback: (_err, m) => {
        m.respond(`hello ${m.subject.split(".")[1]}`);
      },
    });
    await responder.flush();
    const requester = await client(l);
    const reply = await requester.request("greet.ana", "", { timeout: 2_000 });
    expect(reply.string()).toBe("hello ana");
    const failure = await requester
      .request("nobody.home", "", { timeout: 2_000 })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { isNoResponders?: () => boolean }).isNoResponders?.()).toBe(true);
  });

  it("does not echo a client's own messages when it connected with noEcho", async () => {
    const l = await listen();
    const quiet = await client(l, { noEcho: true });
    const other = await client(l);
    const own = collect(quiet, "echo.test");
    const seen = collect(other, "echo.test");
    await quiet.flush();
    await other.flush();
    quiet.publish("echo.test", "from quiet");
    other.publish("echo.test", "from other");
    await waitFor("both at other", () => (seen.got.length === 2 ? true : undefined), 5_000);
    await quiet.flush();
    expect(own.got.map((m) => m.string())).toEqual(["from other"]);
  });

  it("unsubscribes after max messages and frees the subscription", async () => {
    const l = await listen();
    const nc = await client(l);
    const { got, sub } = collect(nc, "limited");
    sub.unsubscribe(3);
    await nc.flush();
    expect(l.stats().subscriptions).toBeGreaterThanOrEqual(1);
    const before = l.stats().subscriptions;
    for (let i = 0; i < 10; i++) nc.publish("limited", String(i));
    await nc.flush();
    await waitFor("3 messages", () => (got.length === 3 ? true : undefined), 5_000);
    await nc.flush();
    expect(got.map((m) => m.string())).toEqual(["0", "1", "2"]);
    expect(l.stats().subscriptions).toBe(before - 1);
  });

  it("disconnects a slow consumer once its output buffer passes the bound, and keeps serving others", async () => {
    const l = await listen({ maxPendingBytes: 256 * 1024 });
    const slow = await raw(l);
    slow.send("CONNECT {}\r\nSUB firehose 1\r\nPING\r\n");
    await slow.waitForText("PONG");
    slow.socket.pause(); // stop reading: the kernel buffers fill, then the server's
    const pub = await client(l);
    const watcher = await client(l);
    const { got } = collect(watcher, "after");
    await watcher.flush();
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    // Bounded: at most 2,000 × 64 KiB; loopback buffers hold a few MiB at most.
    while (l.stats().slowConsumers === 0 && sent < 2_000) {
      for (let i = 0; i < 16; i++) pub.publish("firehose", chunk);
      sent += 16;
      await pub.flush();
    }
    expect(l.stats().slowConsumers).toBe(1);
    slow.socket.resume();
    await slow.waitForClose();
    pub.publish("after", "still here");
    await waitFor("the message after", () => (got.length === 1 ? true : undefined), 5_000);
  });
});

describe("NATS client listener with raw sockets", () => {
  it("answers +OK in verbose mode, PONG to PING, and -ERR (without closing) for bad subjects", async () => {
    const l = await listen();
    const r = await raw(l);
    r.send('CONNECT {"verbose":true}\r\n');
    await r.waitForText("+OK\r\n");
    r.send("SUB a..b 1\r\n");
    await r.waitForText("-ERR 'Invalid Subject'\r\n");
    r.send("PUB a.* 2\r\nhi\r\n");
    await r.waitForText("-ERR 'Invalid Publish Subject'\r\n");
    r.send("SUB ok.> 2\r\nPUB ok.go reply.to 2\r\nhi\r\nPING\r\n");
    await r.waitForText("PONG\r\n");
    expect(r.text).toContain("MSG ok.go 2 reply.to 2\r\nhi\r\n");
    expect(r.closed).toBe(false);
  });

  it("removes a subscription itself after UNSUB's max messages", async () => {
    const l = await listen();
    const r = await raw(l);
    r.send("SUB capped 9\r\nSUB other 10\r\nUNSUB 9 2\r\nPING\r\n");
    await r.waitForText("PONG");
    expect(l.stats().subscriptions).toBe(2);
    r.send("PUB capped 1\r\na\r\nPUB capped 1\r\nb\r\nPUB capped 1\r\nc\r\nPING\r\n");
    await r.waitForCount("PONG\r\n", 2);
    expect(r.text.match(/MSG capped 9 1\r\n/g)?.length).toBe(2);
    expect(l.stats().subscriptions).toBe(1);
    // A max already reached removes the subscription at once.
    r.send("PUB other 1\r\nx\r\nUNSUB 10 1\r\nPING\r\n");
    await r.waitForCount("PONG\r\n", 3);
    expect(l.stats().subscriptions).toBe(0);
  });

  it("sends -ERR and closes on garbage, oversize and malformed input, while other clients keep working", async () => {
    const l = await listen({ maxPayload: 4096 });
    const nc = await client(l);
    const { got } = collect(nc, "alive");
    await nc.flush();
    const cases: [string, string][] = [
      ["HELLO WORLD\r\n", "-ERR 'Unknown Protocol Operation'"],
      [`SUB ${"x".repeat(5000)}`, "-ERR 'Maximum Control Line Exceeded'"],
      ["PUB big 5000\r\n", "-ERR 'Maximum Payload Violation'"],
      [
        "CONNECT {not json}\r\n",
        "-ERR 'Invalid Connect Options: CONNECT options are not valid JSON'",
      ],
      [
        'CONNECT {"no_responders":true}\r\n',
        "-ERR 'Invalid Connect Options: no_responders requires headers'",
      ],
      ["PUB a 3\r\nabcdef\r\n", "-ERR 'Protocol Error: payload is not followed by CRLF"],
      ["PUB truncated\r\n", "-ERR 'Protocol Error: PUB needs"],
      ["\u0000\u00ff\u0001\r\n", "-ERR 'Unknown Protocol Operation'"],
    ];
    for (const [input, answer] of cases) {
      const r = await raw(l);
      r.send(input);
      await r.waitForText(answer);
      await r.waitForClose();
      nc.publish("alive", input.slice(0, 10));
    }
    await waitFor("every message", () => (got.length === cases.length ? true : undefined), 5_000);
    expect(l.stats().protocolErrors).toBe(cases.length);
  });

  it("closes a connection that stops answering PINGs as stale", async () => {
    const l = await listen({ pingIntervalMs: 50, maxPingsOut: 2 });
    const healthy = await client(l);
    const r = await raw(l);
    r.send("CONNECT {}\r\n");
    await r.waitForText("-ERR 'Stale Connection'");
    await r.waitForClose();
    expect(r.text.match(/PING\r\n/g)?.length).toBe(2);
    // nats.js answers the server's PINGs, so it stays.
    expect(await healthy.rtt()).toBeGreaterThanOrEqual(0);
    expect(l.stats().staleConnections).toBe(1);
  });

  it("refuses subscriptions and connections beyond their bounds", async () => {
    const l = await listen({ maxSubscriptions: 2, maxConnections: 2 });
    const r = await raw(l);
    r.send("SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n");
    await r.waitForText("PONG");
    expect(r.text).toContain("-ERR 'Maximum Subscriptions Exceeded'");
    expect(l.stats().subscriptions).toBe(2);
    r.send("UNSUB 1\r\nSUB c 3\r\nPING\r\nPING\r\n");
    await r.waitForCount("PONG\r\n", 3);
    expect(l.stats().subscriptions).toBe(2);
    await raw(l);
    const third = await raw(l);
    await third.waitForText("-ERR 'maximum connections exceeded'");
    await third.waitForClose();
    expect(l.stats().rejectedConnections).toBe(1);
  });
});
