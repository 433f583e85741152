import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InteractionEnv, parseScript, renderScript } from "../src/testing/interaction";

const env = (name: string): string | undefined => process.env[name];

const dir = join(import.meta.dirname, "..", "testdata");
const update = env("UPDATE_GOLDEN") === "1";

describe("interaction scripts (testdata/*.txt)", () => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()) {
    it(`replays ${file}`, () => {
      const path = join(dir, file);
      const parsed = parseScript(readFileSync(path, "utf8"));
      const env = new InteractionEnv();
      const outputs = parsed.blocks.map((b) => env.run(b.command));
      if (update) {
        writeFileSync(path, renderScript(parsed, outputs));
        return;
      }
      parsed.blocks.forEach((b, i) => {
        expect(outputs[i], `${file}: ${b.source}`).toBe(b.expected);
      });
    });
  }
});
