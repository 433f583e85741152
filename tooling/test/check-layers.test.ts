import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without declarations
import { checkLayers, findImports } from "../check-layers.mjs";

const exportsOf = (name: string) => ({
  ".": { "@raft/source": "./src/index.ts", default: "./dist/index.js" },
  ...(name === "core" ? { "./testing": { default: "./dist/testing/index.js" } } : {}),
});

const LIBRARIES: Record<string, string[]> = {
  codec: [],
  wal: ["codec"],
  core: ["codec"],
  "server-integration": ["codec", "core", "wal"],
  "jetstream-glue": ["codec", "core", "server-integration"],
};

let root = "";

function writeFile(path: string, text: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

/** A miniature workspace with the real layer table and one source file per package. */
function makeWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "check-layers-"));
  for (const [name, deps] of Object.entries(LIBRARIES)) {
    const manifest = {
      name: `@raft/${name}`,
      exports: exportsOf(name),
      dependencies: Object.fromEntries(deps.map((dep) => [`@raft/${dep}`, "workspace:*"])),
    };
    writeFile(join(dir, "packages", name, "package.json"), JSON.stringify(manifest));
    const body = deps.map((dep) => `import { x } from "@raft/${dep}";`).join("\n");
    writeFile(join(dir, "packages", name, "src", "index.ts"), `${body}\nexport const y = 1;\n`);
  }
  writeFile(
    join(dir, "apps", "node-server", "package.json"),
    JSON.stringify({ name: "node-server", dependencies: { "@raft/core": "workspace:*" } }),
  );
  writeFile(join(dir, "apps", "node-server", "src", "main.ts"), 'import "@raft/core";\n');
  return dir;
}

afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = "";
});

describe("check-layers", () => {
  it("accepts the layer table of ARCHITECTURE.md", () => {
    root = makeWorkspace();
    expect(checkLayers(root)).toEqual([]);
  });

  it("names the file that imports @raft/core from @raft/codec", () => {
    root = makeWorkspace();
    writeFile(
      join(root, "packages", "codec", "src", "frames.ts"),
      '// a comment\nimport { createRaftNode } from "@raft/core";\n',
    );
    const violations: string[] = checkLayers(root);
    expect(violations).toContain(
      "packages/codec/src/frames.ts:2: @raft/codec must not import @raft/core (layering)",
    );
  });

  it("fails the command line with the offending file in its message", () => {
    root = makeWorkspace();
    writeFile(join(root, "packages", "codec", "src", "bad.ts"), 'export * from "@raft/core";\n');
    let output = "";
    let status = 0;
    try {
      execFileSync("node", [join(import.meta.dirname, "..", "check-layers.mjs"), root], {
        stdio: "pipe",
      });
    } catch (error) {
      const failure = error as { status: number; stderr: Buffer };
      status = failure.status;
      output = failure.stderr.toString();
    }
    expect(status).toBe(1);
    expect(output).toContain("packages/codec/src/bad.ts:1: @raft/codec must not import @raft/core");
  });

  it("rejects a wrong-way dependency in package.json and the cycle it makes", () => {
    root = makeWorkspace();
    const manifest = {
      name: "@raft/codec",
      exports: exportsOf("codec"),
      dependencies: { "@raft/wal": "workspace:*" },
    };
    writeFile(join(root, "packages", "codec", "package.json"), JSON.stringify(manifest));
    const violations: string[] = checkLayers(root);
    expect(violations).toContain(
      "packages/codec/package.json: @raft/codec must not depend on @raft/wal (layering)",
    );
    expect(violations.some((line) => line.includes("dependency cycle"))).toBe(true);
  });

  it("rejects a deep import past exports and an undeclared import", () => {
    root = makeWorkspace();
    writeFile(
      join(root, "packages", "server-integration", "src", "deep.ts"),
      'import { a } from "@raft/core/src/node";\nimport { b } from "@raft/core/testing";\n',
    );
    writeFile(join(root, "packages", "core", "src", "wal.ts"), 'import "@raft/codec";\n');
    const violations: string[] = checkLayers(root);
    expect(violations).toContain(
      'packages/server-integration/src/deep.ts:1: deep import "@raft/core/src/node" is not in @raft/core\'s exports',
    );
    expect(
      violations.some((line) => line.startsWith("packages/server-integration/src/deep.ts:2")),
    ).toBe(false);
  });

  it("rejects relative imports that leave the package", () => {
    root = makeWorkspace();
    writeFile(
      join(root, "packages", "wal", "src", "sneaky.ts"),
      'import { x } from "../../core/src/index";\n',
    );
    expect(checkLayers(root)).toContain(
      'packages/wal/src/sneaky.ts:1: relative import "../../core/src/index" leaves @raft/wal',
    );
  });

  it("rejects clocks and randomness in the pure packages", () => {
    root = makeWorkspace();
    writeFile(
      join(root, "packages", "core", "src", "timer.ts"),
      "export const now = () => Date.now();\nexport const r = () => Math.random();\n",
    );
    const violations: string[] = checkLayers(root);
    expect(violations).toContain(
      "packages/core/src/timer.ts:1: @raft/core is pure and must not use Date",
    );
    expect(violations).toContain(
      "packages/core/src/timer.ts:2: @raft/core is pure and must not use Math.random",
    );
  });

  it("finds static, dynamic and re-export specifiers but not ones in comments", () => {
    const text = [
      'import type { A } from "a";',
      "// import { B } from 'b';",
      'export { C } from "c";',
      'const d = await import("d");',
      'import "e";',
    ].join("\n");
    const specifiers = findImports(text).map((found: { specifier: string }) => found.specifier);
    expect(specifiers.sort()).toEqual(["a", "c", "d", "e"]);
  });

  it("passes on this repository", () => {
    expect(checkLayers(join(import.meta.dirname, "..", ".."))).toEqual([]);
  });
});
