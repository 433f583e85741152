import type { RouteFabric, RouteInfo } from "@raft/server-integration";
import type { NatsFabric } from "./nats-fabric";

/** The fabric a node runs on: the built-in TCP routes, or an external NATS cluster. */
export type NodeFabric = RouteFabric | NatsFabric;

/** Whether `fabric` is the NATS fabric (it has no routes of its own). */
export function isNatsFabric(fabric: NodeFabric): fabric is NatsFabric {
  return (fabric as { readonly kind?: unknown }).kind === "nats";
}

/** The fabric's routes for `/varz`: the route fabric's peers, none over NATS. */
export function fabricRoutes(fabric: NodeFabric): readonly RouteInfo[] {
  return isNatsFabric(fabric) ? [] : fabric.routes();
}
