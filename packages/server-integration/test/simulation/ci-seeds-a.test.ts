import { describe } from "vitest";
import { ciBudgetTest } from "./ci-budget";

describe("simulate CI budget, first half", () => {
  ciBudgetTest(0);
});
