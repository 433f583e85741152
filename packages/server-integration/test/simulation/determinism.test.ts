import { describe, expect, it } from "vitest";
import { simulate } from "../../src/testing/index";
import { envInt } from "./helpers";

describe("simulate determinism", () => {
  const seed = envInt("SEED", 7);

  it("produces a byte-identical trace for the same seed", async () => {
    const a = await simulate({ seed, events: 6000, trace: "lines" });
    const b = await simulate({ seed, events: 6000, trace: "lines" });
    expect(a.traceLineCount, `SEED=${seed}`).toBeGreaterThan(1000);
    expect(b.traceHash, `SEED=${seed}`).toBe(a.traceHash);
    expect(b.trace.join("\n") === a.trace.join("\n"), `SEED=${seed}`).toBe(true);
    expect(b.events).toBe(a.events);
    expect(b.simulatedMs).toBe(a.simulatedMs);
    expect(b.faults).toEqual(a.faults);
    expect(b.operations).toEqual(a.operations);
  }, 60_000);

  it("produces a different trace for a different seed", async () => {
    const a = await simulate({ seed, events: 2000 });
    const b = await simulate({ seed: seed + 1, events: 2000 });
    expect(b.traceHash).not.toBe(a.traceHash);
  }, 60_000);

  it("rejects invalid options with INVALID_ARGUMENT", async () => {
    await expect(simulate({ seed: 1.5 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(simulate({ seed: 1, nodes: 4 as 3 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(simulate({ seed: 1, events: -1 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});
