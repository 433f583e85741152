import { z } from "zod";

/**
 * The node configuration: parsed once from a JSON file and command-line flags, validated with zod,
 * frozen, and passed down as plain typed options (house-style §3.7). Every field is documented in
 * the README's "Configuration" section.
 */

/** A `host:port` endpoint. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Another server of the cluster. */
export interface PeerConfig {
  /** Its server name (unique in the cluster); its Raft node id is derived from it. */
  readonly name: string;
  /**
   * Where its route listener is (this server dials it). Always set with the built-in routes;
   * `undefined` with the NATS fabric, where routes are not used.
   */
  readonly route: Endpoint | undefined;
  /** Its monitoring HTTP port, used to forward KV writes to it when it leads. */
  readonly http: Endpoint | undefined;
}

/** Raft timing overrides (milliseconds); absent fields keep nats-server's defaults. */
export interface TimingConfig {
  readonly electionTimeoutMinMs?: number;
  readonly electionTimeoutMaxMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly lostQuorumIntervalMs?: number;
  readonly lostQuorumCheckMs?: number;
}

/** The NATS client-protocol listener and its bounds. */
export interface ClientConfig {
  /** Address to listen on for NATS clients. */
  readonly host: string;
  /** Port (0 = any free port). */
  readonly port: number;
  /** Largest message (headers plus payload) a client may publish; announced as `max_payload`. */
  readonly maxPayload: number;
  /** Longest protocol control line, in bytes. */
  readonly maxControlLine: number;
  /** Bytes queued for one client above which it is disconnected as a slow consumer. */
  readonly maxPendingBytes: number;
  /** Subscriptions one connection may hold. */
  readonly maxSubscriptions: number;
  /** Client connections at once. */
  readonly maxConnections: number;
  /** Interval of server PINGs. */
  readonly pingIntervalMs: number;
  /** Unanswered server PINGs after which a connection is closed as stale. */
  readonly maxPingsOut: number;
}

/** The external NATS servers the node's fabric connects to (config field `nats`). */
export interface NatsFabricConfig {
  /** NATS server URLs (`nats://host:port` or `host:port`); at least one. */
  readonly servers: readonly string[];
  /** User name for user/password authentication (requires `pass`). */
  readonly user: string | undefined;
  readonly pass: string | undefined;
  /** Token authentication (not together with `user`). */
  readonly token: string | undefined;
  /** Every fabric subject is sent as `<subjectPrefix>.<subject>` on NATS; `undefined` = none. */
  readonly subjectPrefix: string | undefined;
  /** Wait between reconnect attempts, in ms (default 1,000). */
  readonly reconnectWaitMs: number;
  /** Time allowed for the first connection, in ms (default 5,000). */
  readonly connectTimeoutMs: number;
}

/**
 * Which message fabric carries Raft (and client-bridge) traffic between the nodes: the built-in
 * TCP routes (`listen` + `peers[].route`, the default), or an external NATS cluster (`nats`).
 */
export type FabricConfig =
  | { readonly kind: "routes"; readonly listen: Endpoint }
  | { readonly kind: "nats"; readonly nats: NatsFabricConfig };

/** Log levels pino knows, most severe first. */
export const LOG_LEVELS: readonly ["fatal", "error", "warn", "info", "debug", "trace"] = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated, frozen node configuration. */
export interface NodeConfig {
  readonly serverName: string;
  readonly clusterName: string;
  /** Route listener (node-to-node TCP); `undefined` with the NATS fabric. */
  readonly listen: Endpoint | undefined;
  /** The fabric between the nodes (derived from `listen` or `nats`). */
  readonly fabric: FabricConfig;
  /** Monitoring and KV HTTP listener. */
  readonly http: Endpoint;
  /** The other servers; all of them, plus this one, are the peers of the `kv` group. */
  readonly peers: readonly PeerConfig[];
  /** Root of this server's data (one directory per group below it). */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** WAL durability: `"always"` = fsync before any acknowledgement (the default). */
  readonly sync: "always" | { readonly intervalMs: number };
  readonly timing: TimingConfig;
  readonly kv: {
    /** Snapshot the KV state (and compact the log) every this many applied indexes (0 = never). */
    readonly snapshotEntries: number;
    /** Largest value accepted by `PUT /kv/:key`, in bytes. */
    readonly maxValueBytes: number;
    /** A PUT not committed and applied within this time answers 504. */
    readonly proposalTimeoutMs: number;
  };
  /** The NATS client-protocol listener. */
  readonly client: ClientConfig;
  /** Enables `POST /admin/bench` (a bounded load loop run inside the leader). Off by default. */
  readonly benchEndpoint: boolean;
}

/**
 * Default `kv.snapshotEntries`: snapshot (and compact the log) every 10,000 applied indexes, so
 * the log of a long-running node stays bounded.
 */
export const DEFAULT_SNAPSHOT_ENTRIES: number = 10_000;

/** Default NATS client address: loopback only (there is no authentication or TLS). */
export const DEFAULT_CLIENT_HOST: string = "127.0.0.1";

/** Default NATS client port: the one NATS clients try first. */
export const DEFAULT_CLIENT_PORT: number = 4222;

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const endpoint = z.string().transform((text, ctx): Endpoint => {
  const parsed = parseEndpoint(text);
  if (typeof parsed === "string") {
    ctx.addIssue({ code: "custom", message: parsed });
    return z.NEVER;
  }
  return parsed;
});

const name = z
  .string()
  .regex(NAME_PATTERN, "must be 1–64 characters of letters, digits, '_' or '-'");

const positiveMs = z.int().min(1).max(3_600_000);

const timingSchema = z
  .strictObject({
    electionTimeoutMinMs: positiveMs.optional(),
    electionTimeoutMaxMs: positiveMs.optional(),
    heartbeatIntervalMs: positiveMs.optional(),
    lostQuorumIntervalMs: positiveMs.optional(),
    lostQuorumCheckMs: positiveMs.optional(),
  })
  .refine(
    (t) =>
      t.electionTimeoutMinMs === undefined ||
      t.electionTimeoutMaxMs === undefined ||
      t.electionTimeoutMinMs <= t.electionTimeoutMaxMs,
    { message: "electionTimeoutMinMs must not exceed electionTimeoutMaxMs" },
  );

/** A NATS URL or `host:port` (the client adds `nats://`); no whitespace or commas. */
const natsServer = z
  .string()
  .regex(
    /^(?:(?:nats|tls):\/\/)?(?:[^\s,@/]+@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/,
    'must be "host:port" or "nats://host:port"',
  );

const natsSchema = z
  .strictObject({
    servers: z.array(natsServer).min(1, "must name at least one server").max(64),
    user: z.string().min(1).optional(),
    pass: z.string().optional(),
    token: z.string().min(1).optional(),
    subjectPrefix: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/,
        "must be dot-separated tokens of letters, digits, '_' or '-'",
      )
      .max(256)
      .optional(),
    reconnectWaitMs: z.int().min(10).max(60_000).default(1_000),
    connectTimeoutMs: z.int().min(100).max(120_000).default(5_000),
  })
  .superRefine((n, ctx) => {
    if (n.token !== undefined && n.user !== undefined) {
      ctx.addIssue({ code: "custom", path: ["token"], message: "use either token or user/pass" });
    }
    if ((n.user === undefined) !== (n.pass === undefined)) {
      ctx.addIssue({ code: "custom", path: ["pass"], message: "user and pass go together" });
    }
  });

/**
 * The schema of one fabric choice. The choice is made before validation (by the presence of
 * `nats`), so that a routes config reports a missing `listen` or `route` in field order with every
 * other problem, exactly as before the NATS fabric existed.
 */
function schemaFor(withNats: boolean) {
  const routeOnly = z.undefined({
    error: "is for the built-in routes; remove it when nats is set",
  });
  return z
    .strictObject({
      serverName: name,
      clusterName: name.default("local"),
      listen: withNats ? routeOnly.optional() : endpoint,
      nats: withNats ? natsSchema : z.undefined().optional(),
      http: endpoint,
      peers: z
        .array(
          z.strictObject({
            name,
            route: withNats ? routeOnly.optional() : endpoint,
            http: endpoint.optional(),
          }),
        )
        .max(64)
        .default([]),
      dataDir: z.string().min(1, "must not be empty"),
      logLevel: z.enum(LOG_LEVELS).default("info"),
      sync: z
        .union([z.literal("always"), z.strictObject({ intervalMs: z.int().min(1).max(60_000) })])
        .default("always"),
      timing: timingSchema.default({}),
      kv: z
        .strictObject({
          snapshotEntries: z.int().min(0).default(DEFAULT_SNAPSHOT_ENTRIES),
          maxValueBytes: z
            .int()
            .min(1)
            .max(512 * 1024)
            .default(64 * 1024),
          proposalTimeoutMs: positiveMs.default(10_000),
        })
        .prefault({}),
      client: z
        .strictObject({
          host: z
            .string()
            .regex(/^(?:[0-9A-Fa-f:.]+|[A-Za-z0-9.-]+)$/, "must be a host name or an IP address")
            .default(DEFAULT_CLIENT_HOST),
          port: z.int().min(0).max(65535).default(DEFAULT_CLIENT_PORT),
          maxPayload: z
            .int()
            .min(1024)
            .max(64 * 1024 * 1024)
            .default(1024 * 1024),
          maxControlLine: z.int().min(256).max(65536).default(4096),
          maxPendingBytes: z
            .int()
            .min(64 * 1024)
            .max(1024 * 1024 * 1024)
            .default(64 * 1024 * 1024),
          maxSubscriptions: z.int().min(1).max(1_000_000).default(65_536),
          maxConnections: z.int().min(1).max(100_000).default(10_000),
          pingIntervalMs: positiveMs.default(120_000),
          maxPingsOut: z.int().min(1).max(100).default(2),
        })
        .refine((c) => c.maxPendingBytes >= c.maxPayload, {
          message: "maxPendingBytes must be at least maxPayload",
          path: ["maxPendingBytes"],
        })
        .prefault({}),
      benchEndpoint: z.boolean().default(false),
    })
    .superRefine((c, ctx) => {
      const seen = new Set<string>([c.serverName]);
      c.peers.forEach((p, i) => {
        if (seen.has(p.name)) {
          ctx.addIssue({
            code: "custom",
            path: ["peers", i, "name"],
            message: `duplicate server name ${JSON.stringify(p.name)}`,
          });
        }
        seen.add(p.name);
      });
    });
}

const routesSchema = schemaFor(false);
const natsFabricSchema = schemaFor(true);

/** The configuration as the user writes it (before defaults), e.g. in the JSON file. */
export type NodeConfigInput = z.input<typeof routesSchema>;

/** Outcome of {@link parseNodeConfig}: the frozen config, or one readable line per problem. */
export type ParseConfigResult =
  | { readonly ok: true; readonly config: NodeConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Validates `input` (a parsed JSON value merged with flags) and fills defaults. Never throws on
 * bad input: each problem is one line naming the field (`peers[1].route: ...`).
 */
export function parseNodeConfig(input: unknown): ParseConfigResult {
  const withNats =
    typeof input === "object" && input !== null && (input as { nats?: unknown }).nats !== undefined;
  const schema = withNats ? natsFabricSchema : routesSchema;
  const result = schema.safeParse(input, {
    // A missing field reads better as "required" than as a type mismatch with undefined.
    error: (issue) =>
      issue.code === "invalid_type" && issue.input === undefined ? "is required" : undefined,
  });
  if (!result.success) return { ok: false, errors: result.error.issues.map(formatIssue) };
  const c = result.data;
  const fabric: FabricConfig =
    c.nats === undefined
      ? // The routes schema requires `listen` whenever `nats` is absent.
        { kind: "routes", listen: c.listen as Endpoint }
      : {
          kind: "nats",
          nats: {
            servers: c.nats.servers,
            user: c.nats.user,
            pass: c.nats.pass,
            token: c.nats.token,
            subjectPrefix: c.nats.subjectPrefix,
            reconnectWaitMs: c.nats.reconnectWaitMs,
            connectTimeoutMs: c.nats.connectTimeoutMs,
          },
        };
  const config: NodeConfig = deepFreeze({
    serverName: c.serverName,
    clusterName: c.clusterName,
    listen: c.listen,
    fabric,
    http: c.http,
    peers: c.peers.map((p) => ({ name: p.name, route: p.route, http: p.http })),
    dataDir: c.dataDir,
    logLevel: c.logLevel,
    sync: c.sync,
    timing: stripUndefined(c.timing) as TimingConfig,
    kv: c.kv,
    client: c.client,
    benchEndpoint: c.benchEndpoint,
  });
  return { ok: true, config };
}

/**
 * Parses `host:port` (IPv6 hosts in brackets: `[::1]:7422`). Returns the endpoint, or a message
 * saying what is wrong.
 */
export function parseEndpoint(text: string): Endpoint | string {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (match === null) return `expected "host:port", got ${JSON.stringify(text)}`;
  const host = match[1] ?? match[2] ?? "";
  const port = Number(match[3]);
  if (port > 65535) return `port ${port} is above 65535`;
  return { host, port };
}

/** `host:port`, with IPv6 hosts in brackets. */
export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    const where = path === "" ? "config" : path;
    return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
  }
  return `${path === "" ? "config" : path}: ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function stripUndefined(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
