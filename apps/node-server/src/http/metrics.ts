import type { GroupStatus } from "@raft/server-integration";
import type { NodeContext } from "./node-context";
import { PrometheusWriter, type Sample } from "./prometheus";

const STATES = ["follower", "candidate", "leader", "closed"] as const;

/** Renders `/metrics`: process, per-group Raft, WAL, queue and fabric metrics. */
export function renderMetrics(ctx: NodeContext, httpCounters: ReadonlyMap<string, number>): string {
  const w = new PrometheusWriter();
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  w.family("node_server_info", "gauge", "Constant 1, labelled with the server's identity.", [
    {
      labels: {
        server: ctx.config.serverName,
        cluster: ctx.config.clusterName,
        node_id: ctx.server.nodeId,
        version: ctx.version,
      },
      value: 1,
    },
  ]);
  w.family("process_uptime_seconds", "gauge", "Seconds since the node started.", [
    { value: (performance.now() - ctx.startedAtMs) / 1000 },
  ]);
  w.family("process_resident_memory_bytes", "gauge", "Resident set size.", [{ value: mem.rss }]);
  w.family("process_heap_used_bytes", "gauge", "V8 heap in use.", [{ value: mem.heapUsed }]);
  w.family("process_cpu_user_seconds_total", "counter", "User CPU time consumed.", [
    { value: cpu.user / 1e6 },
  ]);
  w.family("process_cpu_system_seconds_total", "counter", "System CPU time consumed.", [
    { value: cpu.system / 1e6 },
  ]);

  const groups = ctx.server.status();
  const per = (f: (g: GroupStatus) => number): Sample[] =>
    groups.map((g) => ({ labels: { group: g.group }, value: f(g) }));
  w.family(
    "raft_group_term",
    "gauge",
    "Current term.",
    per((g) => g.term),
  );
  w.family(
    "raft_group_state",
    "gauge",
    "1 for the group's current Raft state, 0 for the others.",
    groups.flatMap((g) =>
      STATES.map((s) => ({ labels: { group: g.group, state: s }, value: g.state === s ? 1 : 0 })),
    ),
  );
  w.family(
    "raft_group_is_leader",
    "gauge",
    "1 when this node leads the group and accepts proposals.",
    per((g) => (g.isLeader ? 1 : 0)),
  );
  w.family(
    "raft_group_has_leader",
    "gauge",
    "1 when a leader is known.",
    per((g) => (g.leaderId === "" ? 0 : 1)),
  );
  w.family(
    "raft_group_healthy",
    "gauge",
    "1 when the node is current with a live leader.",
    per((g) => (g.healthy ? 1 : 0)),
  );
  w.family(
    "raft_group_last_index",
    "gauge",
    "Last log index.",
    per((g) => g.lastIndex),
  );
  w.family(
    "raft_group_commit_index",
    "gauge",
    "Commit index.",
    per((g) => g.commit),
  );
  w.family(
    "raft_group_applied_index",
    "gauge",
    "Applied index.",
    per((g) => g.applied),
  );
  w.family(
    "raft_group_cluster_size",
    "gauge",
    "Configured cluster size.",
    per((g) => g.clusterSize),
  );
  const peerSamples = (f: (lag: number, contact: number | undefined, current: boolean) => number) =>
    groups.flatMap((g) =>
      g.peers
        .filter((p) => p.id !== g.id)
        .map((p) => ({
          labels: { group: g.group, peer: p.id, server: p.serverName ?? "" },
          value: f(p.lag, p.lastContactMs, p.current),
        })),
    );
  w.family(
    "raft_peer_lag_entries",
    "gauge",
    "As leader: commit index minus the peer's acknowledged index.",
    peerSamples((lag) => lag),
  );
  w.family(
    "raft_peer_last_contact_seconds",
    "gauge",
    "Seconds since the last message from the peer (+Inf if never).",
    peerSamples((_lag, contact) =>
      contact === undefined ? Number.POSITIVE_INFINITY : contact / 1000,
    ),
  );
  w.family(
    "raft_peer_current",
    "gauge",
    "1 when the peer was heard from within the lost-quorum window.",
    peerSamples((_lag, _contact, current) => (current ? 1 : 0)),
  );
  w.family(
    "raft_wal_syncs_total",
    "counter",
    "fdatasync calls on the WAL's log segments.",
    per((g) => g.wal.syncs),
  );
  w.family(
    "raft_wal_mark_syncs_total",
    "counter",
    "Durable-mark writes, each with its own fdatasync (about one per append round).",
    per((g) => g.wal.markSyncs),
  );
  w.family(
    "raft_wal_appends_total",
    "counter",
    "WAL append calls.",
    per((g) => g.wal.appends),
  );
  w.family(
    "raft_wal_size_bytes",
    "gauge",
    "WAL size on disk.",
    per((g) => g.wal.sizeBytes),
  );
  w.family(
    "raft_wal_first_index",
    "gauge",
    "First index kept in the WAL.",
    per((g) => g.wal.firstIndex),
  );
  w.family(
    "raft_snapshot_index",
    "gauge",
    "Index of the newest snapshot.",
    per((g) => g.snapshot.index),
  );
  w.family(
    "raft_snapshots_total",
    "counter",
    "Snapshots taken by this process.",
    per((g) => g.snapshot.taken),
  );
  w.family(
    "raft_inbound_queue",
    "gauge",
    "Inbound messages waiting for the driver.",
    per((g) => g.queues.inbound),
  );
  w.family(
    "raft_inbound_dropped_total",
    "counter",
    "Inbound messages dropped because the queue was full.",
    per((g) => g.queues.inboundDropped),
  );
  w.family(
    "raft_invalid_dropped_total",
    "counter",
    "Inbound messages dropped as undecodable or foreign.",
    per((g) => g.queues.invalidDropped),
  );
  w.family(
    "raft_proposals_pending",
    "gauge",
    "Proposals waiting for commit and apply.",
    per((g) => g.queues.pendingProposals),
  );
  w.family(
    "raft_proposals_rejected_total",
    "counter",
    "Proposals rejected as overloaded.",
    per((g) => g.queues.proposalsRejected),
  );
  w.family(
    "raft_readies_total",
    "counter",
    "Ready batches processed.",
    per((g) => g.readies),
  );

  const m = ctx.fabric.metrics();
  const fabric: [string, "gauge" | "counter", string, number][] = [
    ["raft_fabric_messages_in_total", "counter", "Messages received from peers.", m.messagesIn],
    ["raft_fabric_bytes_in_total", "counter", "Payload bytes received from peers.", m.bytesIn],
    ["raft_fabric_messages_out_total", "counter", "Message copies sent to peers.", m.messagesOut],
    ["raft_fabric_bytes_out_total", "counter", "Payload bytes sent to peers.", m.bytesOut],
    [
      "raft_fabric_messages_dropped_total",
      "counter",
      "Message copies dropped on a full outbound buffer.",
      m.messagesDropped,
    ],
    ["raft_fabric_deliveries_total", "counter", "Local handler invocations.", m.deliveries],
    ["raft_fabric_handler_errors_total", "counter", "Handlers that threw.", m.handlerErrors],
    ["raft_fabric_connections_opened_total", "counter", "Routes established.", m.connectionsOpened],
    ["raft_fabric_connections_closed_total", "counter", "Routes closed.", m.connectionsClosed],
    ["raft_fabric_reconnects_total", "counter", "Routes re-established.", m.reconnects],
    [
      "raft_fabric_protocol_errors_total",
      "counter",
      "Connections closed for a protocol violation.",
      m.protocolErrors,
    ],
    ["raft_fabric_connections", "gauge", "Live routes.", m.connections],
  ];
  for (const [name, type, help, value] of fabric) w.family(name, type, help, [{ value }]);
  const stats = ctx.server.stats();
  w.family(
    "raft_unknown_group_dropped_total",
    "counter",
    "Messages delivered for a group no longer running here.",
    [{ value: stats.unknownGroupDropped }],
  );
  w.family("kv_keys", "gauge", "Keys in the local KV state.", [{ value: ctx.store.size() }]);
  w.family(
    "http_requests_total",
    "counter",
    "HTTP requests answered, by status code.",
    [...httpCounters].map(([code, value]) => ({ labels: { code }, value })),
  );
  const nats = ctx.nats.stats();
  w.family("nats_client_connections", "gauge", "Open NATS client connections.", [
    { value: nats.connections },
  ]);
  w.family("nats_client_subscriptions", "gauge", "Subscriptions of clients and node services.", [
    { value: nats.subscriptions },
  ]);
  const counters: [string, string, number][] = [
    ["nats_client_connections_total", "NATS client connections accepted.", nats.totalConnections],
    ["nats_client_in_msgs_total", "Messages published by NATS clients.", nats.inMsgs],
    [
      "nats_client_in_bytes_total",
      "Bytes (headers and payload) published by clients.",
      nats.inBytes,
    ],
    ["nats_client_out_msgs_total", "Messages delivered to NATS clients.", nats.outMsgs],
    [
      "nats_client_out_bytes_total",
      "Bytes (headers and payload) delivered to clients.",
      nats.outBytes,
    ],
    [
      "nats_client_slow_consumers_total",
      "Clients disconnected as slow consumers.",
      nats.slowConsumers,
    ],
    [
      "nats_client_stale_connections_total",
      "Clients disconnected as stale.",
      nats.staleConnections,
    ],
    [
      "nats_client_protocol_errors_total",
      "Clients disconnected for a protocol error.",
      nats.protocolErrors,
    ],
    [
      "nats_client_rejected_connections_total",
      "Connections refused (maxConnections).",
      nats.rejectedConnections,
    ],
  ];
  const bridge = nats.bridge;
  if (bridge !== undefined) {
    counters.push(
      ["nats_bridge_forwarded_total", "Client messages handed to other nodes.", bridge.forwarded],
      ["nats_bridge_received_total", "Client messages received from other nodes.", bridge.received],
      [
        "nats_bridge_dropped_total",
        "Client messages not forwarded (congestion, size).",
        bridge.dropped,
      ],
      ["nats_bridge_malformed_total", "Undecodable frames from other nodes.", bridge.malformed],
    );
  }
  for (const [name, help, value] of counters) w.family(name, "counter", help, [{ value }]);
  return w.render();
}
