import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../src/cli";
import { parseNodeConfig } from "../src/config";

const base = { serverName: "n1", http: "127.0.0.1:8222", dataDir: "/tmp/x" };

function errors(input: unknown): readonly string[] {
  const r = parseNodeConfig(input);
  return r.ok ? [] : r.errors;
}

describe("parseNodeConfig (fabric choice)", () => {
  it("keeps the built-in routes as the default", () => {
    const r = parseNodeConfig({
      ...base,
      listen: "127.0.0.1:7422",
      peers: [{ name: "n2", route: "127.0.0.1:7423" }],
    });
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.config.fabric).toEqual({ kind: "routes", listen: { host: "127.0.0.1", port: 7422 } });
  });

  it("selects the NATS fabric with nats.servers, without listen or routes, and fills defaults", () => {
    const r = parseNodeConfig({
      ...base,
      nats: { servers: ["nats://127.0.0.1:4222", "10.0.0.2:4222"] },
      peers: [{ name: "n2", http: "127.0.0.1:8223" }, { name: "n3" }],
    });
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.config.listen).toBeUndefined();
    expect(r.config.peers.map((p) => p.route)).toEqual([undefined, undefined]);
    expect(r.config.peers[0]?.http).toEqual({ host: "127.0.0.1", port: 8223 });
    expect(r.config.fabric).toEqual({
      kind: "nats",
      nats: {
        servers: ["nats://127.0.0.1:4222", "10.0.0.2:4222"],
        user: undefined,
        pass: undefined,
        token: undefined,
        subjectPrefix: undefined,
        reconnectWaitMs: 1_000,
        connectTimeoutMs: 5_000,
      },
    });
    expect(Object.isFrozen(r.config.fabric)).toBe(true);
  });

  it("accepts user/pass or a token, and a subject prefix", () => {
    const r = parseNodeConfig({
      ...base,
      nats: { servers: ["h:1"], user: "raft", pass: "secret", subjectPrefix: "prod.raft" },
    });
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.config.fabric.kind === "nats" && r.config.fabric.nats).toMatchObject({
      user: "raft",
      pass: "secret",
      subjectPrefix: "prod.raft",
    });
    expect(errors({ ...base, nats: { servers: ["h:1"], token: "t" } })).toEqual([]);
  });

  it("still requires listen and peers[].route without nats", () => {
    expect(errors({ ...base, peers: [{ name: "n2" }] })).toEqual([
      "listen: is required",
      "peers[0].route: is required",
    ]);
  });

  it("rejects route fields, bad servers, bad prefixes and mixed auth with nats", () => {
    expect(
      errors({
        ...base,
        listen: "127.0.0.1:7422",
        nats: { servers: ["h:1"] },
        peers: [{ name: "n2", route: "h:2" }],
      }),
    ).toEqual([
      "listen: is for the built-in routes; remove it when nats is set",
      "peers[0].route: is for the built-in routes; remove it when nats is set",
    ]);
    expect(errors({ ...base, nats: { servers: [] } })).toEqual([
      "nats.servers: must name at least one server",
    ]);
    expect(errors({ ...base, nats: { servers: ["a b:1", "x,y"] } })).toEqual([
      'nats.servers[0]: must be "host:port" or "nats://host:port"',
      'nats.servers[1]: must be "host:port" or "nats://host:port"',
    ]);
    expect(errors({ ...base, nats: { servers: ["h:1"], subjectPrefix: "a.*" } })).toEqual([
      "nats.subjectPrefix: must be dot-separated tokens of letters, digits, '_' or '-'",
    ]);
    expect(errors({ ...base, nats: { servers: ["h:1"], user: "u" } })).toEqual([
      "nats.pass: user and pass go together",
    ]);
    expect(
      errors({ ...base, nats: { servers: ["h:1"], user: "u", pass: "p", token: "t" } }),
    ).toEqual(["nats.token: use either token or user/pass"]);
    expect(errors({ ...base, nats: { servers: ["h:1"], tls: true } })).toEqual([
      'nats: unknown field "tls"',
    ]);
  });
});

describe("parseCommandLine (--nats)", () => {
  const base = ["--name", "n1", "--http", "127.0.0.1:8222", "--data-dir", "d"];

  it("selects the NATS fabric and accepts peers without a route", async () => {
    const r = await parseCommandLine([
      ...base,
      "--nats",
      "nats://127.0.0.1:4222,127.0.0.1:4223",
      "--peer",
      "n2,,127.0.0.1:8223",
      "--peer",
      "n3",
    ]);
    if (r.kind !== "run") throw new Error(JSON.stringify(r));
    expect(r.config.fabric).toMatchObject({
      kind: "nats",
      nats: { servers: ["nats://127.0.0.1:4222", "127.0.0.1:4223"] },
    });
    expect(r.config.peers).toEqual([
      { name: "n2", route: undefined, http: { host: "127.0.0.1", port: 8223 } },
      { name: "n3", route: undefined, http: undefined },
    ]);
  });

  it("still wants a peer route without --nats, and no --listen with it", async () => {
    const noRoute = await parseCommandLine([...base, "--listen", "h:1", "--peer", "n2"]);
    expect(noRoute).toEqual({
      kind: "invalid",
      errors: [
        'configuration: --peer "n2": expected NAME,ROUTE_HOST:PORT[,HTTP_HOST:PORT]',
        "configuration: peers[0].route: is required",
      ],
    });
    const both = await parseCommandLine([...base, "--listen", "h:1", "--nats", "h:4222"]);
    expect(both).toEqual({
      kind: "invalid",
      errors: ["configuration: listen: is for the built-in routes; remove it when nats is set"],
    });
  });
});
