// fast-check generators of stream configurations and command sequences, shared by the property
// tests. Subjects, message ids and expected values come from small pools so that collisions
// (duplicates, per-subject limits, matching expectations) are frequent.
import fc from "fast-check";
import { encodeHeaderBlock, type StreamCommand, type StreamConfigInput } from "../src/index";

/** The run parameters: `SEED=<n> pnpm test` replays a failure; fast-check prints the seed. */
export function propertyParams(numRuns: number): { numRuns: number; seed?: number } {
  const seed = process.env["SEED"];
  return seed === undefined ? { numRuns } : { numRuns, seed: Number(seed) };
}

export const STREAM_NAME = "S";
const SUBJECTS = ["a", "a", "b", "c.x", "c.y", "c.z", "d"];
const IDS = ["m1", "m2", "m3", "m4"];

export const configArb: fc.Arbitrary<StreamConfigInput> = fc
  .record({
    max_msgs: fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 8 })),
    max_bytes: fc.oneof(fc.constant(-1), fc.integer({ min: 20, max: 200 })),
    max_age: fc.oneof(fc.constant(0), fc.integer({ min: 20, max: 300 })),
    max_msgs_per_subject: fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 3 })),
    max_msg_size: fc.oneof(
      { weight: 3, arbitrary: fc.constant(-1) },
      { weight: 1, arbitrary: fc.integer({ min: 5, max: 100 }) },
    ),
    discard: fc.constantFrom("old" as const, "new" as const),
    window: fc.integer({ min: 0, max: 300 }),
  })
  .map(({ window, ...rest }) => ({
    name: STREAM_NAME,
    subjects: ["a", "b", "c.*"],
    ...rest,
    duplicate_window: rest.max_age > 0 ? Math.min(window, rest.max_age) : window,
  }));

function sometimes<T>(arb: fc.Arbitrary<T>, weight: number): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: 10 - weight, arbitrary: fc.constant(undefined) },
    { weight, arbitrary: arb },
  );
}

const headersArb: fc.Arbitrary<Uint8Array | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 6,
    arbitrary: fc
      .record({
        "Nats-Msg-Id": sometimes(fc.constantFrom(...IDS), 6),
        "Nats-Expected-Stream": sometimes(fc.constantFrom("S", "T"), 1),
        "Nats-Expected-Last-Sequence": sometimes(fc.integer({ min: 0, max: 25 }).map(String), 1),
        "Nats-Expected-Last-Subject-Sequence": sometimes(
          fc.integer({ min: 0, max: 25 }).map(String),
          1,
        ),
        "Nats-Expected-Last-Msg-Id": sometimes(fc.constantFrom("", ...IDS), 1),
        "X-Other": sometimes(fc.constantFrom("1", "two"), 3),
      })
      .map((h) => {
        const present: Record<string, string> = {};
        for (const [key, value] of Object.entries(h)) if (value !== undefined) present[key] = value;
        return encodeHeaderBlock(present);
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }) },
);

/** One command; `ts` is an offset from the previous command's time (may go back). */
const stepArb: fc.Arbitrary<StreamCommand> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .record({
        op: fc.constant("publish" as const),
        subject: fc.constantFrom(...SUBJECTS),
        headers: headersArb,
        data: fc.uint8Array({ maxLength: 24 }),
        ts: fc.integer({ min: -20, max: 60 }),
      })
      .map(({ headers, ...rest }) => (headers === undefined ? rest : { ...rest, headers })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("delete" as const), seq: fc.nat({ max: 12 }) }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record(
        {
          op: fc.constant("purge" as const),
          filter: sometimes(fc.constantFrom("a", "c.*", "c.x", ">", "*"), 6),
          seq: sometimes(fc.nat({ max: 30 }), 3),
          keep: sometimes(fc.nat({ max: 4 }), 3),
        },
        { requiredKeys: ["op"] },
      )
      .map((p) => {
        // Absent fields must be absent, not undefined, as they would be after MessagePack.
        const out: { op: "purge"; filter?: string; seq?: number; keep?: number } = { op: p.op };
        if (p.filter !== undefined) out.filter = p.filter;
        if (p.seq !== undefined) out.seq = p.seq;
        if (p.keep !== undefined) out.keep = p.keep;
        return out;
      }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("expire" as const),
      ts: fc.integer({ min: -20, max: 200 }),
    }),
  },
);

/** A command sequence with absolute times (a random walk starting at 1000 ms). */
export const commandsArb: fc.Arbitrary<StreamCommand[]> = fc
  .integer({ min: 1, max: 120 })
  // An explicit length: fast-check's default sizing keeps arrays to about ten elements.
  .chain((length) => fc.array(stepArb, { minLength: length, maxLength: length }))
  .map((steps) => {
    let now = 1000;
    return steps.map((step) => {
      if (step.op !== "publish" && step.op !== "expire") return step;
      now = Math.max(0, now + step.ts);
      return { ...step, ts: now };
    });
  });
