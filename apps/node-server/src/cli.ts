import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { NodeConfig } from "./config";
import { parseEndpoint, parseNodeConfig } from "./config";

/** The `--help` text of `node-server`. */
export const USAGE: string = `Usage: node-server [--config FILE] [flags]

Starts one cluster node: routes to its peers, a replicated key-value group "kv", and a monitoring
HTTP port. Flags override the fields of the JSON config file.

  --config FILE           JSON config file (see README "Configuration")
  --name NAME             serverName
  --cluster NAME          clusterName (default "local")
  --listen HOST:PORT      route listener
  --http HOST:PORT        monitoring / KV HTTP listener
  --client HOST:PORT      NATS client listener (default 127.0.0.1:4222; port 0 = any free port)
  --peer NAME,ROUTE[,HTTP]  another server (repeatable; replaces the file's peers),
                          e.g. --peer n2,127.0.0.1:7423,127.0.0.1:8223; with the NATS fabric
                          leave ROUTE empty: --peer n2,,127.0.0.1:8223 (or just --peer n2)
  --nats URL[,URL...]     run over an external NATS cluster instead of routes (nats.servers;
                          then no --listen and no peer ROUTE)
  --data-dir DIR          data directory of this server
  --log-level LEVEL       fatal|error|warn|info|debug|trace (default info)
  --sync always|MS        WAL sync: before every acknowledgement (default), or every MS ms
  --snapshot-entries N    snapshot the KV group every N applied entries (0 = never)
  --enable-bench          enable POST /admin/bench (load generator, for pnpm bench:cluster)
  -h, --help              print this help

Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 1 on a fatal runtime error,
2 on an invalid config or flag.`;

/** What the command line asks for. */
export type CliResult =
  | { readonly kind: "help" }
  | { readonly kind: "run"; readonly config: NodeConfig }
  | { readonly kind: "invalid"; readonly errors: readonly string[] };

/**
 * Parses `argv` (without `node` and the script), reads the config file if one is named, applies
 * the flags over it and validates the result. Never throws on bad input: problems come back as
 * readable lines (for exit code 2).
 */
export async function parseCommandLine(argv: readonly string[]): Promise<CliResult> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string" },
        name: { type: "string" },
        cluster: { type: "string" },
        listen: { type: "string" },
        http: { type: "string" },
        client: { type: "string" },
        peer: { type: "string", multiple: true },
        nats: { type: "string" },
        "data-dir": { type: "string" },
        "log-level": { type: "string" },
        sync: { type: "string" },
        "snapshot-entries": { type: "string" },
        "enable-bench": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    return {
      kind: "invalid",
      errors: [`flags: ${error instanceof Error ? error.message : String(error)}`],
    };
  }
  if (values["help"] === true) return { kind: "help" };

  const errors: string[] = [];
  let input: Record<string, unknown> = {};
  const file = values["config"];
  if (typeof file === "string") {
    const loaded = await loadConfigFile(file);
    if (typeof loaded === "string") return { kind: "invalid", errors: [loaded] };
    input = loaded;
  }
  const str = (key: string): string | undefined => {
    const v = values[key];
    return typeof v === "string" ? v : undefined;
  };
  const set = (field: string, value: unknown): void => {
    if (value !== undefined) input[field] = value;
  };
  set("serverName", str("name"));
  set("clusterName", str("cluster"));
  set("listen", str("listen"));
  set("http", str("http"));
  set("dataDir", str("data-dir"));
  set("logLevel", str("log-level"));
  const client = str("client");
  if (client !== undefined) {
    const endpoint = parseEndpoint(client);
    if (typeof endpoint === "string") {
      errors.push(`--client: ${endpoint}`);
    } else {
      const given =
        typeof input["client"] === "object" && input["client"] !== null ? input["client"] : {};
      input["client"] = { ...given, host: endpoint.host, port: endpoint.port };
    }
  }
  const natsServers = str("nats");
  if (natsServers !== undefined) {
    const given = typeof input["nats"] === "object" && input["nats"] !== null ? input["nats"] : {};
    input["nats"] = { ...given, servers: natsServers.split(",").filter((s) => s !== "") };
  }
  // Over NATS a peer has no route: `NAME`, `NAME,,HTTP` (an empty ROUTE) are accepted then.
  const overNats = input["nats"] !== undefined;
  const peers = values["peer"];
  if (Array.isArray(peers)) {
    input["peers"] = peers.map((spec) => {
      const [peerName, route, http, ...rest] = spec.split(",");
      const routeMissing = route === undefined || (overNats && route === "");
      if (rest.length > 0 || peerName === undefined || (routeMissing && !overNats)) {
        errors.push(
          `--peer ${JSON.stringify(spec)}: expected NAME,ROUTE_HOST:PORT[,HTTP_HOST:PORT]`,
        );
      }
      return {
        name: peerName,
        ...(routeMissing ? {} : { route }),
        ...(http === undefined ? {} : { http }),
      };
    });
  }
  const sync = str("sync");
  if (sync !== undefined) {
    if (sync === "always") input["sync"] = "always";
    else if (/^\d+$/.test(sync)) input["sync"] = { intervalMs: Number(sync) };
    else
      errors.push(
        `--sync: expected "always" or a number of milliseconds, got ${JSON.stringify(sync)}`,
      );
  }
  const snapshotEntries = str("snapshot-entries");
  if (snapshotEntries !== undefined) {
    if (/^\d+$/.test(snapshotEntries)) {
      const kv = typeof input["kv"] === "object" && input["kv"] !== null ? input["kv"] : {};
      input["kv"] = { ...kv, snapshotEntries: Number(snapshotEntries) };
    } else {
      errors.push(
        `--snapshot-entries: expected a whole number, got ${JSON.stringify(snapshotEntries)}`,
      );
    }
  }
  if (values["enable-bench"] === true) input["benchEndpoint"] = true;

  const parsed = parseNodeConfig(input);
  if (!parsed.ok) errors.push(...parsed.errors);
  if (errors.length > 0 || !parsed.ok) {
    const where = typeof file === "string" ? `config ${file}` : "configuration";
    return { kind: "invalid", errors: errors.map((e) => `${where}: ${e}`) };
  }
  return { kind: "run", config: parsed.config };
}

/** Reads and JSON-parses a config file; a string is the readable reason it could not be. */
async function loadConfigFile(path: string): Promise<Record<string, unknown> | string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return `config ${path}: cannot read file (${typeof code === "string" ? code : String(error)})`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `config ${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `config ${path}: expected a JSON object at the top level`;
  }
  return { ...(value as Record<string, unknown>) };
}
