import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { nodeIdFromServerName, toError } from "@raft/codec";
import type { RaftGroup, RaftServer, RouteFabric } from "@raft/server-integration";
import { createRaftServer, createRouteFabric } from "@raft/server-integration";
import type { Endpoint, NodeConfig } from "./config";
import { formatEndpoint } from "./config";
import { acquireDataDirLock } from "./data-dir-lock";
import { createNatsFabric } from "./fabric/nats-fabric";
import type { NodeFabric } from "./fabric/node-fabric";
import { isNatsFabric } from "./fabric/node-fabric";
import type { MonitorServer } from "./http/monitor-server";
import { startMonitorServer } from "./http/monitor-server";
import type { NodeContext } from "./http/node-context";
import { KV_GROUP } from "./http/node-context";
import type { KvCommand, KvResult } from "./kv-state-machine";
import { createKvStateMachine } from "./kv-state-machine";
import type { AppLogger } from "./logger";
import { startClientListener } from "./nats/client-listener";
import { ClusterBridge } from "./nats/cluster-bridge";
import { startKvNatsService } from "./nats/kv-nats-service";

/** A started node. */
export interface RunningNode {
  readonly server: RaftServer;
  /** The fabric between the nodes: the built-in routes, or the NATS fabric (`config.fabric`). */
  readonly fabric: NodeFabric;
  readonly kv: RaftGroup<KvCommand, KvResult>;
  /** The bound monitoring address. */
  readonly http: Endpoint;
  /** The bound route address; `undefined` with the NATS fabric. */
  readonly routes: Endpoint | undefined;
  /** The bound NATS client address. */
  readonly client: Endpoint;
  /**
   * Stops the node: steps down if it leads (bounded wait), stops the HTTP listener, the groups and
   * the routes. Idempotent.
   */
  close(): Promise<void>;
}

/** Options of {@link startNode}. */
export interface StartNodeOptions {
  /**
   * Called once if the `kv` group stops while the node is not closing and this server is still a
   * member (a WAL or state machine failure, which `@raft/server-integration` logs with its cause;
   * a server removed from the group is not a failure and only logs a warning). A storage error is fatal to
   * the node (house style §3.5): `main` exits 1. Default: log at `error` only.
   */
  readonly onGroupStopped?: (group: string) => void;
}

/**
 * Starts a node from a validated config: the route fabric, the Raft server, the `kv` group
 * (bootstrapped with every configured server as a peer the first time; a restart keeps the stored
 * membership), the monitoring HTTP port and the NATS client listener (with the `$RAFT.KV.*`
 * service). First of all it locks the data directory (`<dataDir>/LOCK`, released last by
 * `close()`). On failure everything already opened is closed again and the error is rethrown.
 *
 * @throws NodeError `DATA_DIR_LOCKED` when another live process uses `dataDir`,
 *   `DATA_DIR_LOCK_FAILED` when the lock file cannot be handled; any error of the parts it starts.
 */
export async function startNode(
  config: NodeConfig,
  logger: AppLogger,
  options: StartNodeOptions = {},
): Promise<RunningNode> {
  const cleanups: (() => Promise<void>)[] = [];
  const undo = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  try {
    await mkdir(config.dataDir, { recursive: true });
    // Before any store and any port: a second process on this directory would corrupt the WAL,
    // and it must say so rather than fail later on a port the first one holds.
    const lock = await acquireDataDirLock(config.dataDir, logger);
    cleanups.push(() => lock.release());
    const fabric = await openFabric(config, logger);
    cleanups.push(() => fabric.close());

    const server = createRaftServer({
      serverName: config.serverName,
      clusterName: config.clusterName,
      dataDir: config.dataDir,
      fabric,
      logger: logger.child({ component: "raft" }),
      syncPolicy: config.sync,
      timing: config.timing,
      limits: { proposalTimeoutMs: config.kv.proposalTimeoutMs },
    });
    cleanups.push(() => server.close());
    for (const p of config.peers) server.registerServer(p.name, config.clusterName);

    const store = createKvStateMachine();
    const groupConfig = {
      group: KV_GROUP,
      stateMachine: store,
      ...(config.kv.snapshotEntries > 0
        ? { snapshotPolicy: { entries: config.kv.snapshotEntries } }
        : {}),
    };
    await server.bootstrapRaftNode(
      groupConfig,
      config.peers.map((p) => nodeIdFromServerName(p.name)),
      true,
    );
    const kv = await server.startRaftNode<KvCommand, KvResult>(groupConfig);
    kv.onLeadChange((e) => {
      logger.info(
        { group: e.group, isLeader: e.isLeader, term: e.term, leaderId: e.leaderId },
        e.isLeader ? "became kv leader" : "kv leader changed",
      );
    });

    const version = readVersion();
    const natsLogger = logger.child({ component: "nats" });
    const bridge = new ClusterBridge({
      fabric,
      origin: config.serverName,
      maxPatterns: BRIDGE_MAX_PATTERNS,
      // NATS has its own flow control, and the fabric drops while disconnected.
      ...(isNatsFabric(fabric) ? {} : { congested: routesCongested(fabric) }),
      logger: natsLogger,
    });
    cleanups.push(async () => bridge.close());
    const nats = await startClientListener({
      host: config.client.host,
      port: config.client.port,
      serverId: server.nodeId,
      serverName: config.serverName,
      version,
      limits: config.client,
      logger: natsLogger,
      bridge,
    });
    cleanups.push(() => nats.close());
    const ctx: NodeContext = {
      config,
      version,
      startedAtMs: performance.now(),
      startedAt: new Date().toISOString(),
      server,
      fabric,
      kv,
      store,
      nats,
      logger: logger.child({ component: "http" }),
    };
    const monitor: MonitorServer = await startMonitorServer(ctx);
    cleanups.push(() => monitor.close());
    const stopKvService = startKvNatsService(ctx, nats);
    cleanups.push(async () => stopKvService());
    logger.info(
      {
        nodeId: server.nodeId,
        fabric: config.fabric.kind,
        routes: isNatsFabric(fabric) ? null : formatEndpoint(fabric.address()),
        http: formatEndpoint(monitor.address),
        nats: formatEndpoint(nats.address),
        dataDir: config.dataDir,
        peers: config.peers.map((p) => p.name),
      },
      "node started",
    );

    let closing: Promise<void> | undefined;
    // RaftGroup has no "stopped" event; a cheap poll notices a group that failed on its own.
    const watchdog = setInterval(() => {
      if (closing !== undefined || kv.state() !== "closed") return;
      clearInterval(watchdog);
      if (!kv.peerNames().includes(kv.id)) {
        // Removed by a committed membership change (core closes a node whose own removal it
        // applied): not a failure. The node keeps serving HTTP (healthz says why it is
        // unavailable) until the operator stops it.
        logger.warn({ group: KV_GROUP }, "this server was removed from the group");
        return;
      }
      logger.error({ group: KV_GROUP }, "group stopped unexpectedly");
      options.onGroupStopped?.(KV_GROUP);
    }, 500);
    watchdog.unref();
    cleanups.push(async () => clearInterval(watchdog));
    return {
      server,
      fabric,
      kv,
      http: monitor.address,
      routes: isNatsFabric(fabric) ? undefined : fabric.address(),
      client: nats.address,
      close: () => {
        closing ??= (async () => {
          if (kv.isLeader()) {
            // Hand leadership over before leaving, so the others need not wait out a timeout.
            await Promise.race([kv.stepDown(), delay(1_000)]).catch(() => {});
          }
          await undo();
          logger.info({}, "node stopped");
        })();
        return closing;
      },
    };
  } catch (error) {
    await undo();
    throw toError(error);
  }
}

/** Opens the fabric the config chooses: the built-in TCP routes, or an external NATS cluster. */
async function openFabric(config: NodeConfig, logger: AppLogger): Promise<NodeFabric> {
  const f = config.fabric;
  if (f.kind === "nats") {
    return createNatsFabric({
      serverName: config.serverName,
      servers: f.nats.servers,
      ...(f.nats.user === undefined ? {} : { user: f.nats.user }),
      ...(f.nats.pass === undefined ? {} : { pass: f.nats.pass }),
      ...(f.nats.token === undefined ? {} : { token: f.nats.token }),
      ...(f.nats.subjectPrefix === undefined ? {} : { subjectPrefix: f.nats.subjectPrefix }),
      reconnectWaitMs: f.nats.reconnectWaitMs,
      connectTimeoutMs: f.nats.connectTimeoutMs,
      logger: logger.child({ component: "nats-fabric" }),
    });
  }
  const peers = config.peers.flatMap((p) =>
    p.route === undefined ? [] : [{ name: p.name, host: p.route.host, port: p.route.port }],
  );
  return createRouteFabric({
    serverName: config.serverName,
    clusterName: config.clusterName,
    listen: f.listen,
    peers,
    logger: logger.child({ component: "routes" }),
  });
}

/**
 * Distinct client subscription patterns registered as route interest per node; well below the
 * fabric's `maxInterestPerRoute` (100,000), so client subscriptions can never make a route fail.
 */
const BRIDGE_MAX_PATTERNS = 10_000;

/**
 * Client messages stop being forwarded while any route has more than this queued: the route
 * fabric drops messages past 32 MiB, and Raft's must never be the ones dropped.
 */
const BRIDGE_CONGESTED_BYTES = 4 * 1024 * 1024;

/** A cheap congestion check: samples the routes' queues at most every 20 ms. */
function routesCongested(fabric: RouteFabric): () => boolean {
  let checkedAt = Number.NEGATIVE_INFINITY;
  let congested = false;
  return () => {
    const now = performance.now();
    if (now - checkedAt >= 20) {
      checkedAt = now;
      congested = fabric.routes().some((r) => r.pendingBytes > BRIDGE_CONGESTED_BYTES);
    }
    return congested;
  };
}

function readVersion(): string {
  try {
    // src/node.ts and dist/main.js both sit one level below the package root.
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
