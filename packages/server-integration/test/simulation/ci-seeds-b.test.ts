import { describe } from "vitest";
import { ciBudgetTest } from "./ci-budget";

describe("simulate CI budget, second half", () => {
  ciBudgetTest(1);
});
