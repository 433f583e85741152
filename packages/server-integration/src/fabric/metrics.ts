import type { FabricMetrics } from "./types";

/** Mutable counters behind `Fabric.metrics()`; each fabric owns one. */
export class FabricCounters {
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  messagesDropped = 0;
  deliveries = 0;
  handlerErrors = 0;
  connectionsOpened = 0;
  connectionsClosed = 0;
  reconnects = 0;
  protocolErrors = 0;

  /** A frozen copy, with the live connection count supplied by the owner. */
  snapshot(connections: number): FabricMetrics {
    return Object.freeze({
      messagesIn: this.messagesIn,
      bytesIn: this.bytesIn,
      messagesOut: this.messagesOut,
      bytesOut: this.bytesOut,
      messagesDropped: this.messagesDropped,
      deliveries: this.deliveries,
      handlerErrors: this.handlerErrors,
      connectionsOpened: this.connectionsOpened,
      connectionsClosed: this.connectionsClosed,
      reconnects: this.reconnects,
      protocolErrors: this.protocolErrors,
      connections,
    });
  }
}
