import { decodePayload } from "@raft/codec";
import { describe, expect, it } from "vitest";
import { parseEndpoint, parseNodeConfig } from "../src/config";
import { parseKey } from "../src/http/kv-routes";
import type { KvCommand } from "../src/kv-state-machine";
import { createKvStateMachine } from "../src/kv-state-machine";
import { prng, SEED } from "./helpers/seeded";

// Inputs come from the seeded generator of helpers/seeded.ts; a failure names the seed, and
// SEED=<seed> replays it.
const RUNS = 2_000;

function randomBytes(next: () => number, max: number): Uint8Array {
  const out = new Uint8Array(Math.floor(next() * max));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

function randomString(next: () => number, max: number): string {
  const alphabet = "abcXYZ019:.-_=[]/ %\u00e9\u0000\n";
  let s = "";
  const n = Math.floor(next() * max);
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
  return s;
}

function randomJson(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 2 ? 5 : 7));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return Math.floor(next() * 200_000) - 1000;
    case 3:
      return randomString(next, 12);
    case 4:
      return next() * 10;
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomJson(next, depth + 1));
    default: {
      const keys = [
        "serverName",
        "listen",
        "http",
        "peers",
        "dataDir",
        "sync",
        "timing",
        "kv",
        "x",
      ];
      const o: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(next() * 6); i++) {
        o[keys[Math.floor(next() * keys.length)] as string] = randomJson(next, depth + 1);
      }
      return o;
    }
  }
}

function withSeed(run: (next: () => number) => void): void {
  try {
    run(prng(SEED));
  } catch (error) {
    throw new Error(
      `failed with SEED=${SEED}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

describe("input decoders under random input", () => {
  it("parseNodeConfig never throws and returns either a config or error lines", () => {
    withSeed((next) => {
      for (let i = 0; i < RUNS; i++) {
        const r = parseNodeConfig(randomJson(next, 0));
        if (!r.ok) expect(r.errors.length).toBeGreaterThan(0);
        else expect(Object.isFrozen(r.config)).toBe(true);
      }
    });
  });

  it("parseEndpoint and parseKey never throw, and accept only what they document", () => {
    withSeed((next) => {
      for (let i = 0; i < RUNS; i++) {
        const text = randomString(next, 24);
        const e = parseEndpoint(text);
        if (typeof e !== "string") expect(e.port).toBeLessThanOrEqual(65535);
        const k = parseKey(text);
        if ("key" in k) expect(k.key).toMatch(/^[-_=.A-Za-z0-9]{1,256}$/);
      }
    });
  });

  it("KV restore of random bytes throws an Error and leaves the state as it was", () => {
    withSeed((next) => {
      const sm = createKvStateMachine();
      sm.apply([{ index: 1, command: { op: "put", key: "kept", value: Uint8Array.of(1) } }]);
      for (let i = 0; i < RUNS; i++) {
        const bytes = randomBytes(next, 64);
        try {
          sm.restore(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect(sm.get("kept")?.value).toEqual(Uint8Array.of(1));
          continue;
        }
        // Random bytes that happen to be a valid snapshot replace the state: start over.
        sm.restore(createKvStateMachine().snapshot());
        sm.apply([{ index: 1, command: { op: "put", key: "kept", value: Uint8Array.of(1) } }]);
      }
    });
  });

  it("KV apply of any decodable replicated command never throws", () => {
    withSeed((next) => {
      const sm = createKvStateMachine();
      for (let i = 0; i < RUNS; i++) {
        let command: unknown;
        try {
          command = decodePayload(randomBytes(next, 32));
        } catch {
          command = randomJson(next, 0);
        }
        const [result] = sm.apply([{ index: i + 1, command: command as KvCommand }]);
        expect(result).toBeDefined();
      }
    });
  });
});
