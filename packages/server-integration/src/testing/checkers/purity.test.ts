import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The checkers ship to users who may run them anywhere (browsers, Deno, a simulator with a
// virtual clock), so their source must not reach for Node or ambient time and randomness.
const FORBIDDEN: readonly RegExp[] = [
  /from\s+["']node:/,
  /\brequire\(/,
  /(?<![.\w])process\.[a-z]/,
  /\bBuffer\b/,
  /\bconsole\./,
  /\bDate\b/,
  /\bMath\.random\b/,
  /\bperformance\./,
  /\bset(Timeout|Interval|Immediate)\b/,
];

describe("checker sources", () => {
  const dir = import.meta.dirname;
  const sources = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));

  it("exist", () => {
    expect(sources).toContain("wgl-search.ts");
  });

  it.each(sources)("%s uses no Node API, clock or ambient randomness", (file) => {
    const text = readFileSync(join(dir, file), "utf8");
    for (const pattern of FORBIDDEN)
      expect(text, `${file} matches ${pattern}`).not.toMatch(pattern);
  });
});
