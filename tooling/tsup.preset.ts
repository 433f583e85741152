import { defineConfig, type Options } from "tsup";

/**
 * The one tsup configuration every package uses: ESM only, `.d.ts` beside each entry, Node 20.
 * The build resolves sibling packages through their built `dist/` (no `@raft/source` condition), so
 * declarations never inline another package's source; turbo's `^build` makes sure `dist/` exists.
 */
export function definePackageBuild(entry: Record<string, string>): Options {
  return defineConfig({
    entry,
    format: ["esm"],
    target: "node20",
    platform: "node",
    dts: { compilerOptions: { customConditions: [] } },
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
  }) as Options;
}
