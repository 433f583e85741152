import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCommandLine } from "../src/cli";
import { parseEndpoint, parseNodeConfig } from "../src/config";

const minimal = {
  serverName: "n1",
  listen: "127.0.0.1:7422",
  http: "127.0.0.1:8222",
  dataDir: "./data/n1",
};

describe("parseNodeConfig", () => {
  it("fills defaults and freezes the result", () => {
    const r = parseNodeConfig(minimal);
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.config.clusterName).toBe("local");
    expect(r.config.sync).toBe("always");
    expect(r.config.logLevel).toBe("info");
    expect(r.config.peers).toEqual([]);
    expect(r.config.kv).toEqual({
      snapshotEntries: 10_000,
      maxValueBytes: 65536,
      proposalTimeoutMs: 10_000,
    });
    expect(r.config.listen).toEqual({ host: "127.0.0.1", port: 7422 });
    expect(Object.isFrozen(r.config)).toBe(true);
    expect(Object.isFrozen(r.config.listen)).toBe(true);
  });

  it("names every bad field on its own line", () => {
    const r = parseNodeConfig({
      ...minimal,
      serverName: "",
      peers: [
        { name: "n1", route: "h:1" },
        { name: "n3", route: "nope" },
      ],
      sync: { intervalMs: 0 },
      timing: { electionTimeoutMinMs: 900, electionTimeoutMaxMs: 300 },
      logLevel: "loud",
      surprise: 1,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.errors.join("\n");
    expect(text).toContain("serverName: must be 1–64 characters");
    expect(text).toContain('peers[1].route: expected "host:port", got "nope"');
    expect(text).toContain("logLevel:");
    expect(text).toContain("timing: electionTimeoutMinMs must not exceed electionTimeoutMaxMs");
    expect(text).toContain('config: unknown field "surprise"');
    expect(text).toMatch(/^sync/m);
  });

  it("fills the NATS client listener's defaults and bounds its limits", () => {
    const r = parseNodeConfig(minimal);
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.config.client).toEqual({
      host: "127.0.0.1",
      port: 4222,
      maxPayload: 1024 * 1024,
      maxControlLine: 4096,
      maxPendingBytes: 64 * 1024 * 1024,
      maxSubscriptions: 65_536,
      maxConnections: 10_000,
      pingIntervalMs: 120_000,
      maxPingsOut: 2,
    });
    const bad = parseNodeConfig({
      ...minimal,
      client: {
        host: "not a host",
        port: 70_000,
        maxPayload: 1024 * 1024 * 1024,
        maxControlLine: 10,
        maxPingsOut: 0,
        tls: true,
      },
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    const text = bad.errors.join("\n");
    expect(text).toContain("client.host: must be a host name or an IP address");
    expect(text).toMatch(/^client\.port:/m);
    expect(text).toMatch(/^client\.maxPayload:/m);
    expect(text).toMatch(/^client\.maxControlLine:/m);
    expect(text).toMatch(/^client\.maxPingsOut:/m);
    expect(text).toContain('client: unknown field "tls"');
    const pending = parseNodeConfig({
      ...minimal,
      client: { maxPayload: 2 * 1024 * 1024, maxPendingBytes: 1024 * 1024 },
    });
    expect(pending.ok === false && pending.errors).toEqual([
      "client.maxPendingBytes: maxPendingBytes must be at least maxPayload",
    ]);
  });

  it("rejects a peer with this server's name or a duplicate name", () => {
    const r = parseNodeConfig({
      ...minimal,
      peers: [
        { name: "n2", route: "h:2" },
        { name: "n2", route: "h:3" },
      ],
    });
    expect(r.ok ? [] : r.errors).toEqual(['peers[1].name: duplicate server name "n2"']);
  });

  it("reports a missing required field as required", () => {
    const r = parseNodeConfig({ serverName: "n1" });
    expect(r.ok ? [] : r.errors).toEqual([
      "listen: is required",
      "http: is required",
      "dataDir: is required",
    ]);
  });
});

describe("parseEndpoint", () => {
  it("parses host:port and bracketed IPv6", () => {
    expect(parseEndpoint("localhost:1")).toEqual({ host: "localhost", port: 1 });
    expect(parseEndpoint("[::1]:7422")).toEqual({ host: "::1", port: 7422 });
  });

  it("explains what is wrong", () => {
    expect(parseEndpoint("a:99999")).toBe("port 99999 is above 65535");
    expect(parseEndpoint("a b:1")).toBe('expected "host:port", got "a b:1"');
    expect(parseEndpoint("")).toBe('expected "host:port", got ""');
  });
});

describe("parseCommandLine", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "node-server-cli-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("applies flags over the config file", async () => {
    const file = join(dir, "n1.json");
    await writeFile(file, JSON.stringify({ ...minimal, peers: [{ name: "x", route: "h:1" }] }));
    const r = await parseCommandLine([
      "--config",
      file,
      "--http",
      "127.0.0.1:9000",
      "--peer",
      "n2,127.0.0.1:7423,127.0.0.1:8223",
      "--sync",
      "50",
      "--snapshot-entries",
      "100",
    ]);
    if (r.kind !== "run") throw new Error(JSON.stringify(r));
    expect(r.config.http.port).toBe(9000);
    expect(r.config.peers).toEqual([
      {
        name: "n2",
        route: { host: "127.0.0.1", port: 7423 },
        http: { host: "127.0.0.1", port: 8223 },
      },
    ]);
    expect(r.config.sync).toEqual({ intervalMs: 50 });
    expect(r.config.kv.snapshotEntries).toBe(100);
  });

  it("sets the NATS client address with --client and names a bad one", async () => {
    const base = ["--name", "a", "--listen", "h:1", "--http", "h:2", "--data-dir", "d"];
    const r = await parseCommandLine([...base, "--client", "0.0.0.0:5222"]);
    if (r.kind !== "run") throw new Error(JSON.stringify(r));
    expect(r.config.client).toMatchObject({ host: "0.0.0.0", port: 5222 });
    const bad = await parseCommandLine([...base, "--client", "nowhere"]);
    expect(bad).toEqual({
      kind: "invalid",
      errors: ['configuration: --client: expected "host:port", got "nowhere"'],
    });
  });

  it("builds a config from flags alone", async () => {
    const r = await parseCommandLine([
      "--name",
      "a",
      "--listen",
      "h:1",
      "--http",
      "h:2",
      "--data-dir",
      "d",
    ]);
    expect(r.kind).toBe("run");
  });

  it("returns readable errors for a bad flag value, an unknown flag and a bad file", async () => {
    const bad = await parseCommandLine([
      "--name",
      "a",
      "--listen",
      "h:1",
      "--http",
      "h:2",
      "--data-dir",
      "d",
      "--sync",
      "often",
    ]);
    expect(bad).toEqual({
      kind: "invalid",
      errors: ['configuration: --sync: expected "always" or a number of milliseconds, got "often"'],
    });
    const unknown = await parseCommandLine(["--frobnicate"]);
    expect(unknown.kind === "invalid" && unknown.errors[0]).toContain(
      "flags: Unknown option '--frobnicate'",
    );
    const array = join(dir, "array.json");
    await writeFile(array, "[1,2]");
    const notObject = await parseCommandLine(["--config", array]);
    expect(notObject.kind === "invalid" && notObject.errors[0]).toContain("expected a JSON object");
    const missing = await parseCommandLine(["--config", join(dir, "absent.json")]);
    expect(missing.kind === "invalid" && missing.errors[0]).toContain("cannot read file (ENOENT)");
  });

  it("recognises --help", async () => {
    expect(await parseCommandLine(["-h"])).toEqual({ kind: "help" });
  });
});
