import { describe, expect, it } from "vitest";
import { DEFAULT_DUPLICATE_WINDOW_MS, JetStreamError, validateStreamConfig } from "../src/index";

describe("validateStreamConfig", () => {
  it("applies the NATS defaults", () => {
    expect(validateStreamConfig({ name: "S" })).toEqual({
      name: "S",
      subjects: ["S"],
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      max_msgs_per_subject: -1,
      max_msg_size: -1,
      discard: "old",
      duplicate_window: DEFAULT_DUPLICATE_WINDOW_MS,
      retention: "limits",
    });
  });

  it("treats 0 limits as unlimited and caps the default window by max_age", () => {
    const config = validateStreamConfig({ name: "S", max_msgs: 0, max_age: 5000 });
    expect(config.max_msgs).toBe(-1);
    expect(config.duplicate_window).toBe(5000);
  });

  it.each([
    [{ name: "" }],
    [{ name: "a.b" }],
    [{ name: "a b" }],
    [{ name: "S", subjects: ["a..b"] }],
    [{ name: "S", subjects: ["a.>.b"] }],
    [{ name: "S", subjects: ["a", "a"] }],
    [{ name: "S", max_msgs: -2 }],
    [{ name: "S", max_bytes: 1.5 }],
    [{ name: "S", max_age: -1 }],
    [{ name: "S", discard: "newest" }],
    [{ name: "S", retention: "interest" }],
    [{ name: "S", max_age: 100, duplicate_window: 200 }],
  ])("refuses %j with INVALID_CONFIG", (input) => {
    expect(() => validateStreamConfig(input as never)).toThrow(JetStreamError);
    try {
      validateStreamConfig(input as never);
    } catch (error) {
      expect((error as JetStreamError).code).toBe("INVALID_CONFIG");
      expect((error as JetStreamError).toApiError().err_code).toBe(10052);
    }
  });
});
