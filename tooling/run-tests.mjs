#!/usr/bin/env node
// Runs every package's type check and tests through turbo, then closes with one line that sums
// the vitest counts of all packages ("Tests: N passed, N failed, N skipped"), so that the end of a
// CI log says how many tests ran. Fails when turbo fails, when a test failed, or when no test ran
// at all (a run that executes nothing is not a green run).

import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

// Colour codes start with ESC (0x1b); built from a string so the pattern holds no raw control byte.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** Sums the counts of every vitest "Tests  …" summary line in `output`. */
export function sumVitestCounts(output) {
  const totals = { passed: 0, failed: 0, skipped: 0, todo: 0, files: 0 };
  for (const raw of output.split("\n")) {
    const line = raw.replace(ANSI, "");
    const match = /(?:^|\s)Tests\s{2,}(.+)$/.exec(line);
    if (!match) continue;
    totals.files += 1;
    for (const part of match[1].split("|")) {
      const count = /(\d+)\s+(passed|failed|skipped|todo)/.exec(part);
      if (count) totals[count[2]] += Number(count[1]);
    }
  }
  return totals;
}

function main() {
  const args = ["run", "typecheck", "test", "--continue", ...process.argv.slice(2)];
  const child = spawn("turbo", args, { stdio: ["ignore", "pipe", "inherit"], shell: false });
  let output = "";
  child.stdout.on("data", (chunk) => {
    process.stdout.write(chunk);
    output += chunk.toString("utf8");
  });
  child.on("error", (error) => {
    console.error(`run-tests: could not start turbo: ${error.message}`);
    process.exit(1);
  });
  child.on("close", (code) => {
    const totals = sumVitestCounts(output);
    const packages = `${totals.files} package test run(s)`;
    console.log("");
    console.log(`${packages}; turbo exited ${code}`);
    console.log(
      `Tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
    );
    if (code !== 0 || totals.failed > 0) process.exit(code || 1);
    if (totals.passed === 0) {
      console.error("run-tests: no test ran");
      process.exit(1);
    }
  });
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) main();
