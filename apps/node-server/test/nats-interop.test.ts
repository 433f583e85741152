import type { Msg } from "@nats-io/transport-node";
import { connect, headers } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientConfig } from "../src/config";
import { parseNodeConfig } from "../src/config";
import type { NatsServerProcess } from "./helpers/nats-server-process";
import {
  findNatsServer,
  NATS_SERVER_MISSING,
  startNatsServer,
} from "./helpers/nats-server-process";
import { ProcessCluster, waitFor } from "./helpers/process-cluster";
import type { SessionDriver, SessionResult, Transcript } from "./helpers/protocol-session";
import { deliveries, runSession, withoutErrText } from "./helpers/protocol-session";
import { RawClient } from "./helpers/raw-nats";

/*
 * Differential tests: every scripted session and the nats.js scenario run against the real
 * nats-server 2.9 (started here) and against a real node-server process (a group of one, started
 * here too), both with node-server's default client limits. Where the two differ on purpose, the
 * test pins both answers exactly and the README lists the difference.
 */

const CLIENT_DEFAULTS: ClientConfig = defaultClientConfig();

let nats: NatsServerProcess | undefined;
let cluster: ProcessCluster | undefined;
let natsPort = 0;
let oursPort = 0;

beforeAll(async () => {
  // Never a silent skip: without the real server this file fails, saying how to install it.
  if (findNatsServer() === undefined) throw new Error(NATS_SERVER_MISSING);
  const startOurs = async (): Promise<number> => {
    cluster = await ProcessCluster.create({ size: 1 });
    cluster.startAll();
    const node = cluster.node("n1");
    await waitFor(
      `node-server's NATS port ${node.clientPort} (log: ${node.lines.slice(-5).join(" | ")})`,
      async () => {
        const r = await RawClient.open(node.clientPort);
        r.destroy();
        return true;
      },
      15_000,
      50,
    );
    return node.clientPort;
  };
  const [started, port] = await Promise.all([startNatsServer(CLIENT_DEFAULTS), startOurs()]);
  nats = started;
  natsPort = started.port;
  oursPort = port;
}, 30_000);

afterAll(async () => {
  await Promise.all([nats?.stop(), cluster?.stopAll()]);
});

/** Runs one script against both servers at once. */
async function both(
  script: (s: SessionDriver) => Promise<void>,
): Promise<{ nats: SessionResult; ours: SessionResult }> {
  const [n, o] = await Promise.all([runSession(natsPort, script), runSession(oursPort, script)]);
  return { nats: n, ours: o };
}

/** Asserts nats-server's transcript is `expected` and ours is the same. */
async function same(
  script: (s: SessionDriver) => Promise<void>,
  expected: Transcript,
): Promise<void> {
  const r = await both(script);
  expect(r.nats.transcript, "nats-server").toEqual(expected);
  expect(r.ours.transcript, "node-server").toEqual(r.nats.transcript);
}

/** One connection: sends each part, then a PING barrier after it. */
function oneConn(...parts: string[]): (s: SessionDriver) => Promise<void> {
  return async (s) => {
    await s.open("a");
    for (const p of parts) {
      s.send("a", p);
      await s.sync("a");
    }
  };
}

/** One connection that the server is expected to close after `parts`. */
function closingConn(...parts: string[]): (s: SessionDriver) => Promise<void> {
  return async (s) => {
    await s.open("a");
    for (const p of parts) s.send("a", p);
    await s.closed("a");
  };
}

const QUIET = 'CONNECT {"verbose":false}\r\n';
const VERBOSE = 'CONNECT {"verbose":true}\r\n';

describe("node-server against nats-server 2.9: raw protocol sessions", () => {
  it("finds the nats-server executable", () => {
    expect(findNatsServer(), NATS_SERVER_MISSING).toBeDefined();
  });

  it("sends INFO with the same fields and limits", async () => {
    const r = await both(oneConn(QUIET));
    const n = r.nats.infos["a"] ?? {};
    const o = r.ours.infos["a"] ?? {};
    expect(Object.keys(o).sort()).toEqual(Object.keys(n).sort());
    for (const info of [n, o]) {
      expect(info).toMatchObject({
        proto: 1,
        headers: true,
        max_payload: CLIENT_DEFAULTS.maxPayload,
        host: "127.0.0.1",
        client_ip: "127.0.0.1",
      });
      expect(info["client_id"]).toBeTypeOf("number");
    }
  });

  it("answers +OK to every accepted operation with verbose true, before the deliveries it causes", async () => {
    await same(
      oneConn(VERBOSE, "SUB a 1\r\n", "PUB a 2\r\nhi\r\n", "UNSUB 1\r\n", "UNSUB 99\r\n"),
      {
        a: "INFO\r\n+OK\r\nPONG\r\n+OK\r\nPONG\r\n+OK\r\nMSG a 1 2\r\nhi\r\nPONG\r\n+OK\r\nPONG\r\n+OK\r\nPONG\r\n<open>",
      },
    );
  });

  it("is verbose before CONNECT and after a CONNECT without the field; quiet with verbose false", async () => {
    await same(oneConn("SUB a 1\r\n", 'CONNECT {"name":"x"}\r\n', QUIET, "PUB a 1\r\nx\r\n"), {
      a: "INFO\r\n+OK\r\nPONG\r\n+OK\r\nPONG\r\nPONG\r\nMSG a 1 1\r\nx\r\nPONG\r\n<open>",
    });
  });

  it("accepts lower-case operations, tabs and bare LF line ends", async () => {
    await same(oneConn('connect {"verbose":false}\n', "sub\ta\t1\nPUB a 1\r\nx\r\n", "ping\r\n"), {
      a: "INFO\r\nPONG\r\nMSG a 1 1\r\nx\r\nPONG\r\nPONG\r\nPONG\r\n<open>",
    });
  });

  it("delivers between connections, with and without reply subjects", async () => {
    const r = await both(async (s) => {
      await s.open("sub");
      await s.open("pub");
      s.send("sub", `${QUIET}SUB orders 7\r\n`);
      await s.sync("sub");
      s.send("pub", `${QUIET}PUB orders 3\r\none\r\nPUB orders _INBOX.r1 3\r\ntwo\r\n`);
      await s.sync("pub");
      await s.sync("sub");
    });
    expect(r.nats.transcript).toEqual({
      sub: "INFO\r\nPONG\r\nMSG orders 7 3\r\none\r\nMSG orders 7 _INBOX.r1 3\r\ntwo\r\nPONG\r\n<open>",
      pub: "INFO\r\nPONG\r\n<open>",
    });
    expect(r.ours.transcript).toEqual(r.nats.transcript);
  });

  it("matches * and > wildcards, in publish order per subscription", async () => {
    // nats-server's order between different subscriptions of one connection for one message
    // follows its index's layout, not a documented rule; per subscription, order is publish order.
    const r = await both(
      oneConn(
        QUIET,
        "SUB a.* 1\r\nSUB a.> 2\r\nSUB > 3\r\nSUB a.b.c 4\r\nSUB *.*.c 5\r\n",
        "PUB a.b 1\r\nx\r\nPUB a.b.c 1\r\ny\r\nPUB a 1\r\nz\r\nPUB b.b.c 1\r\nw\r\n",
      ),
    );
    const n = r.nats.transcript["a"] ?? "";
    expect(perSubscription(n)).toEqual({
      "1": ["a.b x"],
      "2": ["a.b x", "a.b.c y"],
      "3": ["a.b x", "a.b.c y", "a z", "b.b.c w"],
      "4": ["a.b.c y"],
      "5": ["a.b.c y", "b.b.c w"],
    });
    const o = r.ours.transcript["a"] ?? "";
    expect(perSubscription(o)).toEqual(perSubscription(n));
    expect(o.replace(/MSG [^\r]*\r\n.\r\n/g, "")).toBe("INFO\r\nPONG\r\nPONG\r\nPONG\r\n<open>");
    expect(n.replace(/MSG [^\r]*\r\n.\r\n/g, "")).toBe("INFO\r\nPONG\r\nPONG\r\nPONG\r\n<open>");
  });

  it("gives each message to exactly one member of a queue group and to every plain subscriber", async () => {
    const count = 40;
    const script = async (s: SessionDriver): Promise<void> => {
      for (const c of ["q1", "q2", "plain", "pub"]) await s.open(c);
      s.send("q1", `${QUIET}SUB jobs.* workers 1\r\n`);
      // Same group name on another subject: one group, as in nats-server.
      s.send("q2", `${QUIET}SUB jobs.> workers 2\r\n`);
      s.send("plain", `${QUIET}SUB jobs.> 3\r\n`);
      for (const c of ["q1", "q2", "plain"]) await s.sync(c);
      let text = QUIET;
      for (let i = 0; i < count; i++) text += `PUB jobs.${i} ${String(i).length}\r\n${i}\r\n`;
      s.send("pub", text);
      await s.sync("pub");
      for (const c of ["q1", "q2", "plain"]) await s.sync(c);
    };
    const summary = (t: Transcript) => {
      const q = [...deliveries(t["q1"] ?? ""), ...deliveries(t["q2"] ?? "")];
      return {
        queued: q.map((d) => Number(d.split(" ").at(-1))).sort((x, y) => x - y),
        plain: deliveries(t["plain"] ?? ""),
        closed: Object.values(t).filter((v) => v.endsWith("<closed>")).length,
      };
    };
    const r = await both(script);
    const all = Array.from({ length: count }, (_, i) => i);
    expect(summary(r.nats.transcript)).toEqual({
      queued: all,
      plain: all.map((i) => `jobs.${i} 3 ${i}`),
      closed: 0,
    });
    expect(summary(r.ours.transcript)).toEqual(summary(r.nats.transcript));
  });

  it("removes a subscription after UNSUB's max, and at once when max is already reached", async () => {
    await same(
      oneConn(
        QUIET,
        "SUB u 1\r\nSUB v 2\r\nUNSUB 1 2\r\n",
        "PUB u 1\r\na\r\nPUB u 1\r\nb\r\nPUB u 1\r\nc\r\n",
        "PUB v 1\r\nd\r\nUNSUB 2 1\r\nPUB v 1\r\ne\r\n",
        "SUB w 3\r\nUNSUB 3 0\r\nPUB w 1\r\nf\r\n",
      ),
      {
        a: "INFO\r\nPONG\r\nPONG\r\nMSG u 1 1\r\na\r\nMSG u 1 1\r\nb\r\nPONG\r\nMSG v 2 1\r\nd\r\nPONG\r\nPONG\r\n<open>",
      },
    );
  });

  it("carries headers with HPUB/HMSG, and strips them for a subscriber without headers", async () => {
    const block = "NATS/1.0\r\nA: b\r\nC: d\r\n\r\n";
    const r = await both(async (s) => {
      await s.open("h");
      await s.open("plain");
      s.send("h", `CONNECT {"verbose":false,"headers":true}\r\nSUB h.> 1\r\n`);
      s.send("plain", `${QUIET}SUB h.> 2\r\n`);
      await s.sync("h");
      await s.sync("plain");
      s.send("h", `HPUB h.x r ${block.length} ${block.length + 2}\r\n${block}hi\r\n`);
      s.send("h", `HPUB h.y ${block.length} ${block.length}\r\n${block}\r\n`);
      await s.sync("h");
      await s.sync("plain");
    });
    expect(r.nats.transcript).toEqual({
      h: `INFO\r\nPONG\r\nHMSG h.x 1 r 24 26\r\n${block}hi\r\nHMSG h.y 1 24 24\r\n${block}\r\nPONG\r\n<open>`,
      plain: "INFO\r\nPONG\r\nMSG h.x 2 r 2\r\nhi\r\nMSG h.y 2 0\r\n\r\nPONG\r\n<open>",
    });
    expect(r.ours.transcript).toEqual(r.nats.transcript);
  });

  it("does not echo a client's own messages with echo false", async () => {
    const r = await both(async (s) => {
      await s.open("a");
      await s.open("b");
      s.send("a", 'CONNECT {"verbose":false,"echo":false}\r\nSUB e 1\r\n');
      s.send("b", `${QUIET}SUB e 2\r\n`);
      await s.sync("a");
      await s.sync("b");
      s.send("a", "PUB e 4\r\nmine\r\n");
      await s.sync("a");
      s.send("b", "PUB e 5\r\ntheir\r\n");
      await s.sync("b");
      await s.sync("a");
    });
    expect(r.nats.transcript).toEqual({
      a: "INFO\r\nPONG\r\nPONG\r\nMSG e 1 5\r\ntheir\r\nPONG\r\n<open>",
      b: "INFO\r\nPONG\r\nMSG e 2 4\r\nmine\r\nMSG e 2 5\r\ntheir\r\nPONG\r\n<open>",
    });
    expect(r.ours.transcript).toEqual(r.nats.transcript);
  });

  it("answers a request nobody listens to with a 503 status when no_responders is set", async () => {
    await same(
      oneConn(
        'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\n',
        "SUB _INBOX.x.* 1\r\nPUB nobody _INBOX.x.1 2\r\nhi\r\n",
        // Without a reply subject there is nothing to answer.
        "PUB nobody 2\r\nhi\r\n",
      ),
      {
        a: "INFO\r\nPONG\r\nHMSG _INBOX.x.1 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPONG\r\nPONG\r\n<open>",
      },
    );
    // Without no_responders, silence.
    await same(oneConn(`${QUIET}SUB _INBOX.y 1\r\nPUB nobody _INBOX.y 0\r\n\r\n`), {
      a: "INFO\r\nPONG\r\n<open>",
    });
  });

  it("accepts queue group names with wildcard characters", async () => {
    // One subscription per subject: nats-server's order across two subscriptions matching one
    // message is not fixed, and this test is about the names, not the order.
    await same(oneConn(QUIET, "SUB a q.* 1\r\nSUB b q.> 2\r\nPUB a 1\r\nx\r\nPUB b 1\r\ny\r\n"), {
      a: "INFO\r\nPONG\r\nMSG a 1 1\r\nx\r\nMSG b 2 1\r\ny\r\nPONG\r\n<open>",
    });
  });

  it("keeps the first subscription when a sid is reused", async () => {
    await same(oneConn(QUIET, "SUB a 1\r\nSUB b 1\r\nPUB a 1\r\nx\r\nPUB b 1\r\ny\r\n"), {
      a: "INFO\r\nPONG\r\nMSG a 1 1\r\nx\r\nPONG\r\n<open>",
    });
  });
});

describe("node-server against nats-server 2.9: protocol errors", () => {
  it("answers an unknown operation with -ERR and closes, verbose or not", async () => {
    await same(closingConn(QUIET, "FOO bar\r\n"), {
      a: "INFO\r\n-ERR 'Unknown Protocol Operation'\r\n<closed>",
    });
    await same(closingConn(VERBOSE, "MSG a 1 1\r\nx\r\n"), {
      a: "INFO\r\n+OK\r\n-ERR 'Unknown Protocol Operation'\r\n<closed>",
    });
  });

  it("answers an invalid SUB subject with -ERR and keeps the connection", async () => {
    await same(oneConn(VERBOSE, "SUB a..b 1\r\n", "SUB a.>.b 2\r\nSUB .a 3\r\n", "SUB ok 4\r\n"), {
      a:
        "INFO\r\n+OK\r\nPONG\r\n-ERR 'Invalid Subject'\r\nPONG\r\n" +
        "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\nPONG\r\n+OK\r\nPONG\r\n<open>",
    });
  });

  it("enforces max_payload from the control line alone: -ERR and close", async () => {
    await same(closingConn(QUIET, `PUB a ${CLIENT_DEFAULTS.maxPayload + 1}\r\n`), {
      a: "INFO\r\n-ERR 'Maximum Payload Violation'\r\n<closed>",
    });
    const withHeaders = 'CONNECT {"verbose":false,"headers":true}\r\n';
    await same(closingConn(withHeaders, `HPUB a 10 ${CLIENT_DEFAULTS.maxPayload + 1}\r\n`), {
      a: "INFO\r\n-ERR 'Maximum Payload Violation'\r\n<closed>",
    });
  });

  it("closes on a control line over max_control_line (nats-server words it in lower case)", async () => {
    const r = await both(
      closingConn(QUIET, `SUB ${"x".repeat(CLIENT_DEFAULTS.maxControlLine + 10)} 1\r\n`),
    );
    expect(r.nats.transcript).toEqual({
      a: "INFO\r\n-ERR 'maximum control line exceeded'\r\n<closed>",
    });
    expect(r.ours.transcript).toEqual({
      a: "INFO\r\n-ERR 'Maximum Control Line Exceeded'\r\n<closed>",
    });
  });

  // Differences pinned on purpose (README, "Differences from nats-server"): each asserts both
  // answers exactly, then that nothing but the pinned part differs.

  it("differs in wording only for a payload longer than declared and a PUB without arguments", async () => {
    for (const input of ["PUB a 2\r\nhello\r\n", "PUB\r\n", "UNSUB\r\n"]) {
      const r = await both(closingConn(QUIET, input));
      expect(r.nats.transcript).toEqual({
        a: "INFO\r\n-ERR 'Unknown Protocol Operation'\r\n<closed>",
      });
      expect(r.ours.transcript["a"]).toMatch(/^INFO\r\n-ERR 'Protocol Error: [^']+'\r\n<closed>$/);
      expect(withoutErrText(r.ours.transcript)).toEqual(withoutErrText(r.nats.transcript));
    }
  });

  it("explains with -ERR where nats-server closes silently: bad CONNECT, bad arguments, HPUB without headers", async () => {
    const cases: [string, string][] = [
      ['CONNECT {"verbose":tru\r\n', "Invalid Connect Options: CONNECT options are not valid JSON"],
      ["CONNECT [1]\r\n", "Invalid Connect Options: CONNECT options must be a JSON object"],
      [
        'CONNECT {"verbose":"yes"}\r\n',
        "Invalid Connect Options: CONNECT field verbose must be a boolean",
      ],
      [`${QUIET}PUB a x\r\n`, "Protocol Error: PUB sizes must be whole numbers"],
      [`${QUIET}SUB a\r\n`, "Protocol Error: SUB needs: <subject> [queue group] <sid>"],
      [
        `${QUIET}HPUB a 12 12\r\nNATS/1.0\r\n\r\n\r\n`,
        "Protocol Error: HPUB needs headers: true in CONNECT",
      ],
      [
        `CONNECT {"verbose":false,"headers":true}\r\nHPUB a 10 8\r\n`,
        "Protocol Error: HPUB header size exceeds its total size",
      ],
    ];
    for (const [input, text] of cases) {
      const r = await both(closingConn(input));
      expect(r.nats.transcript, input).toEqual({ a: "INFO\r\n<closed>" });
      expect(r.ours.transcript, input).toEqual({ a: `INFO\r\n-ERR '${text}'\r\n<closed>` });
    }
  });

  it("differs in the -ERR wording for no_responders without headers", async () => {
    const r = await both(closingConn('CONNECT {"verbose":false,"no_responders":true}\r\n'));
    expect(r.nats.transcript).toEqual({
      a: "INFO\r\n-ERR 'no responders requires headers support'\r\n<closed>",
    });
    expect(r.ours.transcript).toEqual({
      a: "INFO\r\n-ERR 'Invalid Connect Options: no_responders requires headers'\r\n<closed>",
    });
  });

  it("drops a publish with a wildcard or empty-token subject, where nats-server still delivers it", async () => {
    const script = oneConn(
      QUIET,
      "SUB a.* 1\r\nSUB > 2\r\n",
      "PUB a.* 2\r\nhi\r\n",
      "PUB a r.* 2\r\nhi\r\n",
      'CONNECT {"verbose":false,"pedantic":false}\r\nPUB a.> 2\r\nhi\r\n',
    );
    const r = await both(script);
    // Both subscriptions match each publish; nats-server's order between them is not fixed.
    expect(sortRuns(r.nats.transcript["a"] ?? "")).toEqual(
      sortRuns(
        "INFO\r\nPONG\r\nPONG\r\n" +
          // pedantic (the default): -ERR, and delivered anyway with `*` as a plain token
          "-ERR 'Invalid Publish Subject'\r\nMSG a.* 2 2\r\nhi\r\nMSG a.* 1 2\r\nhi\r\nPONG\r\n" +
          // reply subjects are not checked
          "MSG a 2 r.* 2\r\nhi\r\nPONG\r\n" +
          // not pedantic: no -ERR at all
          "MSG a.> 2 2\r\nhi\r\nMSG a.> 1 2\r\nhi\r\nPONG\r\n<open>",
      ),
    );
    expect(r.ours.transcript).toEqual({
      a:
        "INFO\r\nPONG\r\nPONG\r\n" +
        "-ERR 'Invalid Publish Subject'\r\nPONG\r\n" +
        "-ERR 'Invalid Publish Subject'\r\nPONG\r\n" +
        "-ERR 'Invalid Publish Subject'\r\nPONG\r\n<open>",
    });
  });

  it("skips empty lines and refuses INFO/+OK from a client, where nats-server does the reverse", async () => {
    const empty = await both(oneConn(QUIET, "\r\n"));
    expect(empty.nats.transcript).toEqual({
      a: "INFO\r\nPONG\r\n-ERR 'Unknown Protocol Operation'\r\n<closed>",
    });
    expect(empty.ours.transcript).toEqual({ a: "INFO\r\nPONG\r\nPONG\r\n<open>" });
    for (const input of ["INFO {}\r\n", "+OK\r\n"]) {
      const r = await both(oneConn(QUIET, input));
      expect(r.nats.transcript, input).toEqual({ a: "INFO\r\nPONG\r\nPONG\r\n<open>" });
      expect(r.ours.transcript, input).toEqual({
        a: "INFO\r\nPONG\r\n-ERR 'Unknown Protocol Operation'\r\n<closed>",
      });
    }
  });
});

describe("node-server against nats-server 2.9: the nats.js client", () => {
  /** One nats.js session; returns everything a client can observe, for comparison. */
  async function scenario(port: number): Promise<Record<string, unknown>> {
    const opts = { servers: `127.0.0.1:${port}`, reconnect: false, timeout: 5_000 };
    const a = await connect({ ...opts, name: "a" });
    const b = await connect({ ...opts, name: "b" });
    const c = await connect({ ...opts, name: "c" });
    try {
      const seen: Record<string, string[]> = { tail: [], star: [], q: [] };
      const keep = (key: string) => (_err: unknown, m: Msg) => {
        seen[key]?.push(
          `${m.subject} ${m.string()}${m.headers ? ` ${m.headers.get("X-Tag")}` : ""}`,
        );
      };
      b.subscribe("orders.>", { callback: keep("tail") });
      b.subscribe("orders.*.new", { callback: keep("star") });
      b.subscribe("work", { queue: "pool", callback: keep("q") });
      c.subscribe("work", { queue: "pool", callback: keep("q") });
      b.subscribe("svc.echo", {
        callback: (_err, m) => {
          const h = headers();
          h.set("X-Echo", m.headers?.get("X-Tag") ?? "none");
          m.respond(m.string().toUpperCase(), { headers: h });
        },
      });
      await Promise.all([b.flush(), c.flush()]);

      const h = headers();
      h.set("X-Tag", "t1");
      a.publish("orders.eu.new", "one", { headers: h });
      a.publish("orders.us.old", "two");
      a.publish("orders.eu", "three");
      a.publish("other", "four");
      for (let i = 0; i < 20; i++) a.publish("work", String(i));
      await a.flush();
      const reply = await a.request("svc.echo", "ping", { timeout: 2_000, headers: h });
      const noResponders = await a
        .request("nobody.home", "", { timeout: 2_000 })
        .then(() => "answered")
        .catch((e: unknown) =>
          (e as { isNoResponders?: () => boolean }).isNoResponders?.() === true
            ? "no responders"
            : String(e),
        );
      await Promise.all([b.flush(), c.flush()]);

      // Drain b: its subscriptions stop, then it closes without an error.
      const drained = await b.drain().then(() => "drained");
      const bClosed = await b.closed();
      a.publish("orders.after", "lost");
      await a.flush();
      await c.flush();
      const queued = seen["q"] ?? [];
      return {
        tail: seen["tail"],
        star: seen["star"],
        queued: queued.map((s) => Number(s.split(" ")[1])).sort((x, y) => x - y),
        reply: { data: reply.string(), echo: reply.headers?.get("X-Echo") },
        noResponders,
        drained,
        bClosedWithError: bClosed !== undefined,
        bIsClosed: b.isClosed(),
        infoKeys: Object.keys(a.info ?? {}).sort(),
      };
    } finally {
      await Promise.all([a.close(), b.close(), c.close()].map((p) => p.catch(() => {})));
    }
  }

  it("observes the same results on both servers", async () => {
    const [n, o] = await Promise.all([scenario(natsPort), scenario(oursPort)]);
    expect(n).toMatchObject({
      tail: ["orders.eu.new one t1", "orders.us.old two", "orders.eu three"],
      star: ["orders.eu.new one t1"],
      queued: Array.from({ length: 20 }, (_, i) => i),
      reply: { data: "PING", echo: "t1" },
      noResponders: "no responders",
      drained: "drained",
      bClosedWithError: false,
      bIsClosed: true,
    });
    expect(o).toEqual(n);
  });
});

/** Deliveries grouped by subscription id, each as `subject body`, in arrival order. */
/**
 * `text` with every run of consecutive deliveries (`MSG` line plus a one-line payload) sorted, for
 * comparing transcripts where one publish reaches several subscriptions of one connection.
 */
function sortRuns(text: string): string {
  const lines = text.split("\r\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const run: string[] = [];
    while (lines[i]?.startsWith("MSG ") && i + 1 < lines.length) {
      run.push(`${lines[i]}\r\n${lines[i + 1]}`);
      i += 2;
    }
    if (run.length > 0) out.push(...run.sort());
    else out.push(lines[i++] as string);
  }
  return out.join("\r\n");
}

function perSubscription(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of deliveries(text)) {
    const [subject, sid, ...rest] = d.split(" ");
    const key = sid ?? "";
    out[key] = [...(out[key] ?? []), [subject, ...rest].join(" ")];
  }
  return out;
}

function defaultClientConfig(): ClientConfig {
  const parsed = parseNodeConfig({
    serverName: "interop",
    listen: "127.0.0.1:1",
    http: "127.0.0.1:2",
    dataDir: "unused",
  });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.config.client;
}
