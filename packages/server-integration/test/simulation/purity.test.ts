import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The simulator must be a pure function of its seed: no clock, no ambient randomness, no timers,
// no IO. `setImmediate` appears only in host-turn.ts (see there why), and never with a delay.
const FORBIDDEN: readonly RegExp[] = [
  /from\s+["']node:/,
  /\brequire\(/,
  /(?<![.\w])process\.[a-z]/,
  /\bconsole\./,
  /\bDate\b/,
  /\bMath\.random\b/,
  /\bperformance\./,
  /\bset(Timeout|Interval)\b/,
  /\bqueueMicrotask\b/,
];

describe("simulator sources", () => {
  const dir = join(import.meta.dirname, "../../src/testing/simulator");
  const sources = readdirSync(dir).filter((f) => f.endsWith(".ts"));

  it("exist", () => {
    expect(sources).toContain("simulate.ts");
  });

  it.each(sources)("%s reads no clock, ambient randomness or IO", (file) => {
    const text = readFileSync(join(dir, file), "utf8");
    for (const pattern of FORBIDDEN)
      expect(text, `${file} matches ${pattern}`).not.toMatch(pattern);
    if (file !== "host-turn.ts") expect(text, file).not.toMatch(/\bsetImmediate\(/);
  });
});
