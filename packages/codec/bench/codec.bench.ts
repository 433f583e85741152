// Append-entry encode/decode throughput against a JSON baseline of the same data.
//
// Baseline (what a JSON wire format would have to do for the same frame): encode =
// JSON.stringify of { leader, term, commit, pterm, pindex, lterm, entries: [{ type, data }] }
// with each entry's data as a base64 string, then TextEncoder to get bytes for the wire;
// decode = TextDecoder + JSON.parse + base64 back to bytes for every entry (Node's native
// Buffer base64, the fastest path available). Our codec produces/consumes the binary frame.
//
// vitest bench reports hz = iterations/s. For 1-entry frames one iteration handles a batch of 100
// frames (the harness costs ~0.2 µs per iteration, more than one small decode), so frames/s =
// hz × 100 there and hz × 1 otherwise. MB/s = frames/s × binary frame bytes / 10^6, using the
// sizes printed before the run, for both columns, so both measure the same payload.
import { bench, describe } from "vitest";
import type * as Codec from "../src/index";
import type { AppendEntry, Entry } from "../src/index";

// We measure the built bundle (`pnpm bench` runs tsup first), which is what consumers run. Through
// vitest's module transform, src/ is 1.6–3× slower on small frames: every call between our
// modules goes through the transform's live-binding getters, which the bundle does not have. The
// specifier is not a literal so that typechecking does not need dist/ to exist.
const distEntry: string = "../dist/index.js";
const { decodeAppendEntry, encodeAppendEntry } = (await import(distEntry)) as typeof Codec;

const ENTRY_BYTES = 256;

interface JsonFrame {
  leader: string;
  term: number;
  commit: number;
  pterm: number;
  pindex: number;
  lterm: number;
  entries: { type: number; data: string }[];
}

function makeFrame(count: number): AppendEntry {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(ENTRY_BYTES);
    for (let j = 0; j < ENTRY_BYTES; j++) data[j] = (i * 31 + j * 7) & 0xff;
    entries.push({ type: 0, data });
  }
  return {
    leader: "S1Nunr6R",
    term: 42,
    commit: 1_000_000,
    pterm: 42,
    pindex: 1_000_001,
    entries,
    lterm: 0,
  };
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function jsonEncode(ae: AppendEntry): Uint8Array {
  const doc: JsonFrame = {
    leader: ae.leader,
    term: ae.term,
    commit: ae.commit,
    pterm: ae.pterm,
    pindex: ae.pindex,
    lterm: ae.lterm,
    entries: ae.entries.map((e) => ({
      type: e.type,
      data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString("base64"),
    })),
  };
  return textEncoder.encode(JSON.stringify(doc));
}

function jsonDecode(bytes: Uint8Array): AppendEntry {
  const doc = JSON.parse(textDecoder.decode(bytes)) as JsonFrame;
  return {
    ...doc,
    entries: doc.entries.map((e) => ({
      type: e.type as Entry["type"],
      data: new Uint8Array(Buffer.from(e.data, "base64")),
    })),
  };
}

let sink = 0;

// Longer runs than vitest's default (500 ms) average out noise from other work on a shared machine.
const options = { time: 1500, warmupTime: 300 };

for (const count of [1, 64, 1024]) {
  const batch = count === 1 ? 100 : 1;
  const per = batch === 1 ? "" : `, ${batch} frames per iteration`;
  const ae = makeFrame(count);
  const binary = encodeAppendEntry(ae);
  const json = jsonEncode(ae);
  const buffer = new Uint8Array(binary.length);
  console.log(
    `append entry ${count} × ${ENTRY_BYTES} B: binary frame ${binary.length} B, JSON ${json.length} B`,
  );

  describe(`encode append entry, ${count} × ${ENTRY_BYTES} B${per}`, () => {
    bench(
      "codec encodeAppendEntry",
      () => {
        for (let i = 0; i < batch; i++) sink += encodeAppendEntry(ae).length;
      },
      options,
    );
    bench(
      "codec encodeAppendEntry into a reused buffer",
      () => {
        for (let i = 0; i < batch; i++) sink += encodeAppendEntry(ae, { buffer }).length;
      },
      options,
    );
    bench(
      "JSON baseline (stringify + base64 + UTF-8)",
      () => {
        for (let i = 0; i < batch; i++) sink += jsonEncode(ae).length;
      },
      options,
    );
  });

  describe(`decode append entry, ${count} × ${ENTRY_BYTES} B${per}`, () => {
    bench(
      "codec decodeAppendEntry (zero copy)",
      () => {
        for (let i = 0; i < batch; i++) sink += decodeAppendEntry(binary).entries.length;
      },
      options,
    );
    bench(
      "JSON baseline (UTF-8 + parse + base64)",
      () => {
        for (let i = 0; i < batch; i++) sink += jsonDecode(json).entries.length;
      },
      options,
    );
  });
}

// Keeps the results observable so the work cannot be optimised away.
if (sink < 0) console.log(sink);
