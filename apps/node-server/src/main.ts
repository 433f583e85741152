#!/usr/bin/env node
/**
 * The `node-server` CLI entry: parse flags and config, start the node, stop it on SIGINT/SIGTERM.
 * Exit codes: 0 clean shutdown, 1 fatal runtime error, 2 invalid config or flag.
 */
import { toError } from "@raft/codec";
import { parseCommandLine, USAGE } from "./cli";
import type { AppLogger } from "./logger";
import { createAppLogger } from "./logger";
import type { RunningNode } from "./node";
import { startNode } from "./node";

async function main(): Promise<void> {
  const cli = await parseCommandLine(process.argv.slice(2));
  if (cli.kind === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (cli.kind === "invalid") {
    process.stderr.write(
      `node-server: invalid configuration\n${cli.errors.map((e) => `  - ${e}`).join("\n")}\nRun node-server --help for usage.\n`,
    );
    process.exitCode = 2;
    return;
  }
  const config = cli.config;
  const logger = createAppLogger(config.logLevel, config.serverName);
  const fatal = (err: unknown, msg: string): never => {
    logger.fatal({ err: toError(err) }, msg);
    logger.flush();
    process.stderr.write(`node-server: ${msg}: ${toError(err).message}\n`);
    process.exit(1);
  };
  process.on("uncaughtException", (err) => fatal(err, "uncaught exception"));
  process.on("unhandledRejection", (err) => fatal(err, "unhandled rejection"));

  let node: RunningNode;
  try {
    node = await startNode(config, logger, {
      onGroupStopped: (group) => fatal(new Error(`group ${group} stopped`), "group failed"),
    });
  } catch (error) {
    fatal(error, "start failed");
    return;
  }
  installShutdown(node, logger);
}

function installShutdown(node: RunningNode, logger: AppLogger): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, "second signal: exiting now");
      logger.flush();
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, "shutting down");
    // Bounded: a stuck close must not keep the process alive forever.
    const force = setTimeout(() => {
      logger.error({}, "shutdown took over 10 s: exiting");
      logger.flush();
      process.exit(1);
    }, 10_000);
    force.unref();
    node
      .close()
      .then(() => {
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: toError(error) }, "shutdown failed");
        logger.flush();
        process.exit(1);
      });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

void main();
