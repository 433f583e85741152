import { definePackageTests } from "../../tooling/vitest.preset.ts";

export default definePackageTests({ testTimeoutMs: 120_000 });
