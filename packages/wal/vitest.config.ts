import { definePackageTests } from "../../tooling/vitest.preset.ts";

export default definePackageTests();
