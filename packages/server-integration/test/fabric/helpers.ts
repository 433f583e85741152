import type { FabricLogger } from "../../src/fabric/types";

/** One captured log line. */
export interface LogRecord {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

/** A logger fake that records every line, for assertions on what an operator would see. */
export function createCapturingLogger(): FabricLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord["level"]) =>
    (obj: object, msg: string): void => {
      records.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return { records, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** One field of a captured log record. */
export function field(record: LogRecord, key: string): unknown {
  return record.obj[key];
}

/** Polls `condition` every 5 ms until it holds; fails after `timeoutMs` with `what`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(5);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The seed of randomized tests: `SEED=... pnpm test` replays one. */
export function testSeed(fallback: number): number {
  const { SEED } = process.env;
  return SEED === undefined ? fallback : Number(SEED);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** `bytes` decoded as UTF-8. */
export function text(data: Uint8Array): string {
  return decoder.decode(data);
}
