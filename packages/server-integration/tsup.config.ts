import { definePackageBuild } from "../../tooling/tsup.preset.ts";

export default definePackageBuild({
  index: "src/index.ts",
  "testing/index": "src/testing/index.ts",
});
