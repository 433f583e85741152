import type { IncomingMessage, ServerResponse } from "node:http";
import { isNodeId, nodeIdFromServerName } from "@raft/codec";
import type { RaftGroup } from "@raft/server-integration";
import { ServerError } from "@raft/server-integration";
import { z } from "zod";
import { sendCommonServerError, sendError, sendJson } from "./http-util";
import type { NodeContext } from "./node-context";

const SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Body of `POST /admin/groups/:group/peers`: the server to add, by name or by node id. */
export interface AddPeerBody {
  readonly server?: string | undefined;
  readonly id?: string | undefined;
}

/** Validates an {@link AddPeerBody}: exactly one of `server` and `id`. */
export const addPeerBody: z.ZodType<AddPeerBody> = z
  .strictObject({
    server: z
      .string()
      .regex(SERVER_NAME, "server must be a server name (1–64 letters, digits, '_' or '-')")
      .optional(),
    id: z.string().refine(isNodeId, "id must be an 8-character node id").optional(),
  })
  .refine((b) => (b.server === undefined) !== (b.id === undefined), {
    message: 'give exactly one of "server" and "id"',
  });

/**
 * `POST /admin/groups/:group/peers`: the leader adds a server to the group and answers once the
 * change is committed. The new server must be running with the group (started with this cluster's
 * servers as its `peers`), so that it can catch up. On a follower: 409 `NOT_LEADER` with the leader.
 */
export async function addPeer(
  ctx: NodeContext,
  res: ServerResponse,
  group: RaftGroup,
  body: AddPeerBody,
): Promise<void> {
  const id = body.id ?? nodeIdFromServerName(body.server ?? "");
  if (body.server !== undefined) ctx.server.registerServer(body.server, ctx.config.clusterName);
  try {
    await group.proposeAddPeer(id);
  } catch (error) {
    sendMembershipError(res, group, error);
    return;
  }
  ctx.logger.info({ group: group.group, peer: id, server: body.server }, "peer added on request");
  sendJson(res, 200, {
    group: group.group,
    added: id,
    server: ctx.server.serverNameForNode(id) ?? null,
    peers: describePeers(ctx, group),
  });
}

/**
 * `DELETE /admin/groups/:group/peers/:peer` (`:peer` = a member's node id or a server name): removes
 * the server from the group and answers once this node sees the removal committed. Works on any
 * member (a follower forwards the request to the leader).
 */
export async function removePeer(
  ctx: NodeContext,
  _req: IncomingMessage,
  res: ServerResponse,
  group: RaftGroup,
  peer: string,
): Promise<void> {
  const members = group.peerNames();
  let id: string;
  if (members.includes(peer)) id = peer;
  else if (SERVER_NAME.test(peer)) id = nodeIdFromServerName(peer);
  else {
    sendError(res, 400, "INVALID_PEER", "peer must be a member's node id or a server name");
    return;
  }
  try {
    await group.proposeRemovePeer(id);
  } catch (error) {
    sendMembershipError(res, group, error);
    return;
  }
  ctx.logger.info({ group: group.group, peer: id }, "peer removed on request");
  sendJson(res, 200, { group: group.group, removed: id, peers: describePeers(ctx, group) });
}

function describePeers(
  ctx: NodeContext,
  group: RaftGroup,
): { id: string; server: string | null }[] {
  return group.peerNames().map((id) => ({ id, server: ctx.server.serverNameForNode(id) ?? null }));
}

function sendMembershipError(res: ServerResponse, group: RaftGroup, error: unknown): void {
  if (!(error instanceof ServerError)) throw error;
  if (sendCommonServerError(res, error)) return;
  const s = group.status();
  const leader = s.leaderServerName ?? (s.leaderId || null);
  switch (error.code) {
    case "NOT_LEADER":
      sendError(res, 409, "NOT_LEADER", error.message, { leader });
      return;
    case "MEMBERSHIP": {
      const status = error.reason === "INVALID_PEER" ? 400 : error.reason === "LOST" ? 503 : 409;
      sendError(res, status, "MEMBERSHIP", error.message, { reason: error.reason ?? null, leader });
      return;
    }
    default:
      throw error;
  }
}
