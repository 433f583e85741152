import { decodePayload, encodePayload } from "@raft/codec";
import type { AppliedCommand, StateMachine } from "@raft/server-integration";

/** A command of the `kv` group, as replicated (MessagePack-encodable plain objects). */
export type KvCommand =
  | { readonly op: "put"; readonly key: string; readonly value: Uint8Array }
  | { readonly op: "delete"; readonly key: string };

/**
 * The result of applying one command. `revision` is the Raft index that wrote the key; a command
 * that is not a valid `KvCommand` (a foreign or damaged entry) is skipped with `ok: false` so that
 * every replica skips it alike.
 */
export type KvResult =
  | { readonly ok: true; readonly revision: number; readonly existed: boolean }
  | { readonly ok: false; readonly error: string };

/** One stored key. */
export interface KvEntry {
  readonly value: Uint8Array;
  /** Raft index of the command that wrote it. */
  readonly revision: number;
}

/** The KV state machine (synchronous) plus local (non-replicated) reads. */
export interface KvStateMachine extends StateMachine<KvCommand, KvResult> {
  apply(commands: readonly AppliedCommand<KvCommand>[]): readonly KvResult[];
  snapshot(): Uint8Array;
  /** @throws Error when `data` is not a snapshot of this state machine (the state is unchanged). */
  restore(data: Uint8Array): void;
  /** The entry of `key` as applied on this server (not linearizable: see README). */
  get(key: string): KvEntry | undefined;
  /** Number of keys. */
  size(): number;
}

/** Upper bound of a snapshot's key count accepted by `restore` (guards against a damaged file). */
const MAX_SNAPSHOT_KEYS = 10_000_000;

/**
 * A replicated map from string keys to byte values. Deterministic: the result of each command
 * depends only on the commands before it.
 */
export function createKvStateMachine(): KvStateMachine {
  let map = new Map<string, KvEntry>();
  return {
    apply(commands: readonly AppliedCommand<KvCommand>[]): readonly KvResult[] {
      return commands.map(({ index, command }) => applyOne(map, index, command));
    },
    snapshot(): Uint8Array {
      const entries: [string, Uint8Array, number][] = [];
      for (const [key, e] of map) entries.push([key, e.value, e.revision]);
      return encodePayload({ v: 1, entries });
    },
    restore(data: Uint8Array): void {
      map = decodeSnapshot(data);
    },
    get(key: string): KvEntry | undefined {
      return map.get(key);
    },
    size(): number {
      return map.size;
    },
  };
}

function applyOne(map: Map<string, KvEntry>, index: number, command: unknown): KvResult {
  if (typeof command !== "object" || command === null) {
    return { ok: false, error: "command is not an object" };
  }
  const c = command as { op?: unknown; key?: unknown; value?: unknown };
  if (typeof c.key !== "string") return { ok: false, error: "key is not a string" };
  if (c.op === "put") {
    if (!(c.value instanceof Uint8Array)) return { ok: false, error: "value is not bytes" };
    const existed = map.has(c.key);
    map.set(c.key, { value: c.value, revision: index });
    return { ok: true, revision: index, existed };
  }
  if (c.op === "delete") {
    const existed = map.delete(c.key);
    return { ok: true, revision: index, existed };
  }
  return { ok: false, error: `unknown op ${JSON.stringify(c.op)}` };
}

/** @throws Error when the bytes are not a snapshot of this state machine. */
function decodeSnapshot(data: Uint8Array): Map<string, KvEntry> {
  const value = decodePayload(data) as { v?: unknown; entries?: unknown };
  if (typeof value !== "object" || value === null || value.v !== 1) {
    throw new Error("kv snapshot: unknown format");
  }
  const entries = value.entries;
  if (!Array.isArray(entries) || entries.length > MAX_SNAPSHOT_KEYS) {
    throw new Error("kv snapshot: entries missing or too many");
  }
  const map = new Map<string, KvEntry>();
  for (const e of entries as unknown[]) {
    if (
      !Array.isArray(e) ||
      typeof e[0] !== "string" ||
      !(e[1] instanceof Uint8Array) ||
      !Number.isSafeInteger(e[2])
    ) {
      throw new Error("kv snapshot: malformed entry");
    }
    map.set(e[0], { value: e[1], revision: e[2] as number });
  }
  return map;
}
