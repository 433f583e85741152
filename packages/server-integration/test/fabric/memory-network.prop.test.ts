import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { createMemoryNetwork } from "../../src/fabric/memory-network";
import { createSeededRandom } from "../../src/fabric/seeded-random";
import { subjectMatches } from "../../src/fabric/subject";

const SERVERS = ["s0", "s1", "s2", "s3"];
const PATTERNS = ["$NRG.AE.g", "$NRG.V.*", "$NRG.>", "$NRG.R.x", "other"];
const SUBJECTS = ["$NRG.AE.g", "$NRG.V.g", "$NRG.V.h", "$NRG.R.x", "other", "$NRG.CR.y"];

const scenario = fc.record({
  seed: fc.integer(),
  subs: fc.array(fc.tuple(fc.nat(3), fc.constantFrom(...PATTERNS)), { maxLength: 12 }),
  pubs: fc.array(fc.tuple(fc.nat(3), fc.constantFrom(...SUBJECTS)), { maxLength: 30 }),
  delayMax: fc.nat(20),
  reorderProbability: fc.double({ min: 0, max: 1, noNaN: true }),
});

describe("MemoryNetwork properties", () => {
  test.prop([scenario])(
    "without loss or duplication, every handler of every other server gets each matching publish exactly once",
    ({ seed, subs, pubs, delayMax, reorderProbability }) => {
      const network = createMemoryNetwork({ random: createSeededRandom(seed) });
      network.setFaults({ delayMs: [0, delayMax], reorderProbability, reorderDelayMs: 5 });
      const fabrics = SERVERS.map((name) => network.createFabric(name));
      const received = new Map<string, number>();
      subs.forEach(([server, pattern], handler) => {
        fabrics[server]?.subscribe(pattern, (m) => {
          const key = `${handler}|${new TextDecoder().decode(m.data)}`;
          received.set(key, (received.get(key) ?? 0) + 1);
        });
      });
      pubs.forEach(([server, subject], i) => {
        fabrics[server]?.publish(subject, undefined, new TextEncoder().encode(String(i)));
        network.deliverDue(i);
      });
      network.flush();
      const expected = new Map<string, number>();
      pubs.forEach(([publisher, subject], i) => {
        subs.forEach(([server, pattern], handler) => {
          if (server !== publisher && subjectMatches(pattern, subject))
            expected.set(`${handler}|${i}`, 1);
        });
      });
      expect(received).toEqual(expected);
      expect(network.pending()).toBe(0);
    },
  );
});
