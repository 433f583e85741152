import { nodeIdFromServerName } from "@raft/codec";
import type { RaftTiming } from "@raft/core";
import type { MemoryNetwork } from "../fabric/memory-network";
import { createMemoryNetwork } from "../fabric/memory-network";
import { createRaftServer } from "../server/raft-server";
import type { RaftGroup, RaftServer, SnapshotPolicy, StateMachine } from "../server/types";

/** One server of a {@link LocalGroup}. */
export interface LocalMember<TCommand, TResult, TMachine extends StateMachine<TCommand, TResult>> {
  readonly name: string;
  readonly server: RaftServer;
  readonly group: RaftGroup<TCommand, TResult>;
  /** The state machine this server applies to (the one `stateMachine(name)` returned). */
  readonly stateMachine: TMachine;
}

/** Options of {@link startLocalGroup}. */
export interface LocalGroupOptions<
  TCommand,
  TResult,
  TMachine extends StateMachine<TCommand, TResult>,
> {
  /** Server names; each server stores its data under `<dataDir>/<name>`. */
  readonly names: readonly string[];
  /** A directory the caller owns (and removes). */
  readonly dataDir: string;
  /** The group name. Default `"G"`. */
  readonly group?: string;
  /** A fresh state machine per server (called once per server per start). */
  readonly stateMachine: (name: string) => TMachine;
  /** Bootstrap the group with every server as a peer (the first start). Default `true`. */
  readonly bootstrap?: boolean;
  readonly timing?: RaftTiming;
  readonly snapshotPolicy?: SnapshotPolicy;
}

/** A running group of {@link startLocalGroup}. */
export interface LocalGroup<TCommand, TResult, TMachine extends StateMachine<TCommand, TResult>> {
  readonly members: readonly LocalMember<TCommand, TResult, TMachine>[];
  /** The member that leads now (its election no-op applied), if any. */
  leader(): LocalMember<TCommand, TResult, TMachine> | undefined;
  /** Closes every server and the network. Idempotent. The data stays in `dataDir`. */
  close(): Promise<void>;
}

/**
 * Starts one Raft group on several `RaftServer`s in this process: real files under `dataDir`
 * (fsync included), real time, and an in-memory network that delivers on timers. The quickest way
 * to run a state machine for real in a test; start it again with `bootstrap: false` on the same
 * `dataDir` to test recovery. For faults and virtual time use {@link simulate} instead.
 */
export async function startLocalGroup<
  TCommand,
  TResult,
  TMachine extends StateMachine<TCommand, TResult>,
>(
  options: LocalGroupOptions<TCommand, TResult, TMachine>,
): Promise<LocalGroup<TCommand, TResult, TMachine>> {
  const network: MemoryNetwork = createMemoryNetwork({ delivery: "timers" });
  const ids = options.names.map(nodeIdFromServerName);
  const groupName = options.group ?? "G";
  const members: LocalMember<TCommand, TResult, TMachine>[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const m of members) await m.server.close();
    network.close();
  };
  try {
    for (const name of options.names) {
      const server = createRaftServer({
        serverName: name,
        clusterName: "local",
        dataDir: `${options.dataDir}/${name}`,
        fabric: network.createFabric(name),
        ...(options.timing === undefined ? {} : { timing: options.timing }),
      });
      const stateMachine = options.stateMachine(name);
      const config = {
        group: groupName,
        stateMachine,
        ...(options.snapshotPolicy === undefined ? {} : { snapshotPolicy: options.snapshotPolicy }),
      };
      if (options.bootstrap ?? true) await server.bootstrapRaftNode(config, ids, true);
      const group = await server.startRaftNode<TCommand, TResult>(config);
      members.push({ name, server, group, stateMachine });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    members,
    leader: () => members.find((m) => m.group.isLeader()),
    close,
  };
}
