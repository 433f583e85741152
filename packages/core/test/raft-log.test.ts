import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { RaftLog } from "../src/raft-log";
import { MemoryStorage } from "../src/testing/memory-storage";
import type { Ready } from "../src/types";
import { ae, normal } from "./helpers";

type Op =
  | { kind: "append"; n: number }
  | { kind: "truncate"; back: number }
  | { kind: "release"; back: number }
  | { kind: "persist" };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("append" as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("truncate" as const), back: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant("release" as const), back: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant("persist" as const) }),
);

describe("RaftLog", () => {
  test.prop([fc.array(op, { maxLength: 60 })], { numRuns: 300 })(
    "serves the same terms and entries as a plain array model, across cache and view",
    (ops) => {
      const storage = new MemoryStorage();
      const log = new RaftLog(storage);
      // The model: terms by index (1-based); persisted/pending mirror a shell that lags behind.
      const model: number[] = [];
      let term = 1;
      let truncateAfter: number | undefined;
      let pending: { index: number; term: number; data: Uint8Array }[] = [];
      let released = 0;
      for (const o of ops) {
        if (o.kind === "append") {
          term += 1;
          for (let k = 0; k < o.n; k++) {
            const a = ae({
              term,
              pindex: log.lastIndex,
              entries: [normal(String(model.length + 1))],
            });
            const data = new Uint8Array([model.length + 1]);
            const index = log.append(term, a, data);
            model.push(term);
            pending.push({ index, term, data });
          }
        } else if (o.kind === "truncate") {
          const to = Math.max(released, log.lastIndex - o.back);
          log.truncateAfter(to);
          model.length = Math.min(model.length, to);
          pending = pending.filter((r) => r.index <= to);
          truncateAfter = Math.min(truncateAfter ?? to, to);
        } else if (o.kind === "persist") {
          const rd = { append: pending, truncateAfter } as unknown as Ready;
          storage.persist(rd);
          pending = [];
          truncateAfter = undefined;
        } else {
          // Only persisted records may be released (the node releases ≤ min(applied, stable)).
          const stable = pending.length === 0 && truncateAfter === undefined ? log.lastIndex : 0;
          const upTo = Math.min(stable, log.lastIndex - o.back);
          if (upTo > released) {
            log.release(upTo);
            released = upTo;
          }
        }
        expect(log.lastIndex).toBe(model.length);
        expect(log.lastTerm).toBe(model[model.length - 1] ?? 0);
        for (let i = 1; i <= model.length; i++) {
          expect(log.term(i)).toBe(model[i - 1]);
          expect(log.data(i)?.[0]).toBe(i);
        }
        expect(log.term(model.length + 1)).toBeUndefined();
      }
    },
  );
});
