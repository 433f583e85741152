import { defineConfig } from "vitest/config";

const conditions = ["@raft/source", "module", "node", "import", "default"];

/**
 * The vitest configuration every package uses. In-repo imports of `@raft/*` resolve to `src/`
 * through the `@raft/source` export condition, so tests never need a build first.
 */
export function definePackageTests(
  options: { testTimeoutMs?: number } = {},
): ReturnType<typeof defineConfig> {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ["@raft/source"] } },
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout: options.testTimeoutMs ?? 20_000,
      benchmark: { include: ["bench/**/*.bench.ts"] },
    },
  });
}
