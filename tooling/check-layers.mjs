#!/usr/bin/env node
// Checks the dependency direction of ARCHITECTURE.md against every package.json and every import.
//
//   codec ← core, codec ← wal, {codec, core, wal} ← server-integration,
//   {codec, core, server-integration} ← jetstream-glue ← apps
//
// Fails on: a dependency or import that points the wrong way, a cycle between workspace packages,
// an import of a sibling package that its package.json does not declare, a deep import past a
// package's `exports`, a relative import that leaves its own package, and impure globals
// (`Date`, `Math.random`, timers, `process`) in the pure packages (`@raft/core`, `@raft/codec`).
//
// Usage: node tooling/check-layers.mjs [rootDir]. Exit code 1 and one line per violation, each
// naming the offending file, on failure.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Which workspace packages each package may depend on. Apps may use every library package. */
export const ALLOWED = {
  "@raft/codec": [],
  "@raft/wal": ["@raft/codec"],
  "@raft/core": ["@raft/codec"],
  "@raft/server-integration": ["@raft/codec", "@raft/core", "@raft/wal"],
  "@raft/jetstream-glue": ["@raft/codec", "@raft/core", "@raft/server-integration"],
  "@raft/tooling": [],
};

/** Packages that must stay pure: no clock, randomness, timers or process access. */
export const PURE = ["@raft/core", "@raft/codec"];

const SOURCE_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs"];
const SKIP_DIRS = new Set(["node_modules", "dist", ".turbo", "coverage", "testdata"]);

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

function listWorkspacePackages(rootDir) {
  const packages = [];
  for (const group of ["packages", "apps", "tooling"]) {
    const groupDir = join(rootDir, group);
    if (!existsSync(groupDir)) continue;
    const candidates =
      group === "tooling" ? [groupDir] : readdirSync(groupDir).map((name) => join(groupDir, name));
    for (const dir of candidates) {
      const manifestPath = join(dir, "package.json");
      if (!existsSync(manifestPath)) continue;
      const manifest = readJson(manifestPath);
      packages.push({ dir, manifest, isApp: group === "apps" });
    }
  }
  return packages;
}

function listSourceFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) files.push(...listSourceFiles(path));
    else if (SOURCE_EXTENSIONS.some((ext) => entry.endsWith(ext)) && !entry.endsWith(".d.ts")) {
      files.push(path);
    }
  }
  return files;
}

/** Strips comments so that an import mentioned in prose is not taken for a real one. */
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

const IMPORT_PATTERNS = [
  /\bimport\s+(?:type\s+)?[\s\S]*?\bfrom\s*["']([^"']+)["']/g,
  /\bexport\s+(?:type\s+)?[\s\S]*?\bfrom\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
];

/** Returns each import specifier in a file with its 1-based line number. */
export function findImports(text) {
  const code = stripComments(text);
  const found = new Map();
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[1];
      const offset = (match.index ?? 0) + match[0].lastIndexOf(specifier);
      const line = code.slice(0, offset).split("\n").length;
      found.set(`${specifier}@${line}`, { specifier, line });
    }
  }
  return [...found.values()];
}

function splitSpecifier(specifier) {
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  const rest = specifier.slice(name.length);
  return { name, subpath: rest === "" ? "." : `.${rest}` };
}

const IMPURE_PATTERNS = [
  { pattern: /\bDate\s*[.(]/, what: "Date" },
  { pattern: /\bnew\s+Date\b/, what: "Date" },
  { pattern: /\bMath\.random\b/, what: "Math.random" },
  { pattern: /\bperformance\.now\b/, what: "performance.now" },
  { pattern: /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, what: "timers" },
  { pattern: /\bprocess\.\w/, what: "process" },
  { pattern: /\bcrypto\.getRandomValues\b/, what: "crypto.getRandomValues" },
];

function findCycle(graph) {
  const state = new Map();
  const stack = [];
  const visit = (node) => {
    state.set(node, "visiting");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "visiting") return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

function workspaceDeps(manifest) {
  const all = {
    ...manifest.dependencies,
    ...manifest.devDependencies,
    ...manifest.peerDependencies,
    ...manifest.optionalDependencies,
  };
  return Object.keys(all).filter((name) => name.startsWith("@raft/"));
}

/**
 * Checks a repository. Returns the list of violations (empty when the layering holds); each one is
 * a line of text that starts with the offending file, relative to `rootDir`.
 */
export function checkLayers(rootDir) {
  const root = resolve(rootDir);
  const violations = [];
  const packages = listWorkspacePackages(root);
  const byName = new Map(packages.map((pkg) => [pkg.manifest.name, pkg]));
  const rel = (path) => relative(root, path).split(sep).join("/");
  const mayUse = (pkg, target) =>
    pkg.isApp ? !byName.get(target)?.isApp : (ALLOWED[pkg.manifest.name] ?? []).includes(target);

  const graph = new Map();
  for (const pkg of packages) {
    const name = pkg.manifest.name;
    const deps = workspaceDeps(pkg.manifest);
    graph.set(name, deps);
    if (!pkg.isApp && !(name in ALLOWED)) {
      violations.push(`${rel(join(pkg.dir, "package.json"))}: ${name} is not in the layer table`);
    }
    for (const dep of deps) {
      if (!mayUse(pkg, dep)) {
        violations.push(
          `${rel(join(pkg.dir, "package.json"))}: ${name} must not depend on ${dep} (layering)`,
        );
      }
    }
  }
  const cycle = findCycle(graph);
  if (cycle) violations.push(`package.json: dependency cycle ${cycle.join(" -> ")}`);

  for (const pkg of packages) {
    const name = pkg.manifest.name;
    // The checker's own tests hold deliberately bad imports as fixture text.
    if (name === "@raft/tooling") continue;
    const declared = new Set(workspaceDeps(pkg.manifest));
    const pure = PURE.includes(name);
    const pureSrc = join(pkg.dir, "src");
    for (const file of listSourceFiles(pkg.dir)) {
      const text = readFileSync(file, "utf8");
      for (const { specifier, line } of findImports(text)) {
        const where = `${rel(file)}:${line}`;
        if (specifier.startsWith(".")) {
          const target = resolve(dirname(file), specifier);
          // Build and test configurations may use the shared presets in tooling/.
          const intoTooling = target.startsWith(join(root, "tooling") + sep);
          if (!target.startsWith(pkg.dir + sep) && target !== pkg.dir && !intoTooling) {
            violations.push(`${where}: relative import "${specifier}" leaves ${name}`);
          }
          continue;
        }
        const { name: target, subpath } = splitSpecifier(specifier);
        if (!byName.has(target)) continue;
        if (target === name) {
          violations.push(`${where}: ${name} imports itself by name ("${specifier}")`);
          continue;
        }
        if (!mayUse(pkg, target)) {
          violations.push(`${where}: ${name} must not import ${target} (layering)`);
          continue;
        }
        if (!declared.has(target)) {
          violations.push(
            `${where}: imports ${target}, which ${name}'s package.json does not list`,
          );
        }
        const exportsField = byName.get(target).manifest.exports ?? {};
        if (!(subpath in exportsField)) {
          violations.push(`${where}: deep import "${specifier}" is not in ${target}'s exports`);
        }
      }
      if (pure && file.startsWith(pureSrc + sep) && !/\.(test|prop\.test)\.ts$/.test(file)) {
        const code = stripComments(text);
        code.split("\n").forEach((lineText, index) => {
          for (const { pattern, what } of IMPURE_PATTERNS) {
            if (pattern.test(lineText)) {
              violations.push(
                `${rel(file)}:${index + 1}: ${name} is pure and must not use ${what}`,
              );
            }
          }
        });
      }
    }
  }
  return violations;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const rootDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  const violations = checkLayers(rootDir);
  if (violations.length > 0) {
    console.error(`check-layers: ${violations.length} violation(s)`);
    for (const violation of violations) console.error(`  ${violation}`);
    process.exit(1);
  }
  console.log("check-layers: dependency direction holds");
}
