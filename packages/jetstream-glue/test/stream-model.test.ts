import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyStreamCommand,
  type StreamCommand,
  StreamStore,
  validateStreamConfig,
} from "../src/index";
import { commandsArb, configArb, propertyParams } from "./arbitraries";
import { NaiveStream } from "./naive-stream-model";

const SUBJECTS = ["a", "b", "c.x", "c.y", "c.z", "d"];

function compare(store: StreamStore, model: NaiveStream, step: number): void {
  expect(store.state(), `state after step ${step}`).toEqual(model.state());
  const held = [...store.messages()].map((m) => [m.seq, m.subject, m.ts, m.data.length]);
  expect(held, `messages after step ${step}`).toEqual(
    model.msgs.map((m) => [m.seq, m.subject, m.ts, m.data.length]),
  );
  for (const subject of SUBJECTS) {
    expect(store.lastBySubject(subject)?.seq, `last of ${subject}`).toBe(
      model.lastBySubject(subject)?.seq,
    );
  }
  expect(store.lastMsgId()).toBe(model.lastMsgId);
}

describe("StreamStore against a naive model", () => {
  it("gives identical results and states for random command sequences", () => {
    fc.assert(
      fc.property(configArb, commandsArb, (input, commands: StreamCommand[]) => {
        const config = validateStreamConfig(input);
        const store = new StreamStore(config);
        const model = new NaiveStream(config);
        commands.forEach((command, step) => {
          const actual = applyStreamCommand(store, command);
          const expected = model.apply(command as unknown as Record<string, unknown>);
          expect(actual, `result of step ${step} ${JSON.stringify(command)}`).toEqual(expected);
          compare(store, model, step);
        });
      }),
      propertyParams(400),
    );
  });

  it("keeps every limit after every command", () => {
    fc.assert(
      fc.property(configArb, commandsArb, (input, commands) => {
        const config = validateStreamConfig(input);
        const store = new StreamStore(config);
        for (const command of commands) {
          applyStreamCommand(store, command);
          const state = store.state();
          if (config.max_msgs > 0) expect(state.messages).toBeLessThanOrEqual(config.max_msgs);
          if (config.max_bytes > 0) expect(state.bytes).toBeLessThanOrEqual(config.max_bytes);
          if (config.max_msgs_per_subject > 0) {
            for (const s of SUBJECTS) {
              expect(store.subjectCount(s)).toBeLessThanOrEqual(config.max_msgs_per_subject);
            }
          }
          if (config.max_age > 0 && state.messages > 0) {
            expect(state.first_ts).toBeGreaterThan(store.clock() - config.max_age);
          }
        }
      }),
      propertyParams(200),
    );
  });
});
