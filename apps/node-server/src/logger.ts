import type { FabricLogger, ServerLogger } from "@raft/server-integration";
import { pino } from "pino";
import type { LogLevel } from "./config";

/** The app's logger: pino, which has the shape of the packages' logger ports. */
export interface AppLogger extends ServerLogger, FabricLogger {
  fatal(obj: object, msg: string): void;
  child(bindings: Record<string, unknown>): AppLogger;
  /** Writes out anything buffered; call before a fatal exit. */
  flush(): void;
}

/**
 * Creates the process logger: JSON lines on stdout with the server name bound. The destination is
 * synchronous so that the last lines before a fatal exit are never lost (pino's documentation warns
 * that asynchronous destinations can drop them); the node logs rarely at `info`, so the cost is
 * negligible.
 */
export function createAppLogger(level: LogLevel, serverName: string): AppLogger {
  const root = pino(
    { level, base: { serverName }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: true }),
  );
  return wrap(root);
}

function wrap(logger: pino.Logger): AppLogger {
  return {
    fatal: (obj, msg) => logger.fatal(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    debug: (obj, msg) => logger.debug(obj, msg),
    child: (bindings) => wrap(logger.child(bindings)),
    flush: () => logger.flush(),
  };
}
