import { type FileHandle, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, bench, describe } from "vitest";
import { createNodeDisk, type GroupStore, openGroupStore, RECORD_HEADER_BYTES } from "../src/index";

// Append throughput on the real disk: 256-byte records, with 1, 16 and 256 concurrent appenders
// (each awaits its append before issuing the next), against a raw baseline that writes the same
// bytes (header included) in batches of `concurrency` records with one fdatasync per batch and no
// other work. Each iteration appends a fixed number of records; the summary printed at the end
// converts the median iteration time to records/s and MB/s of payload (the median, because the
// 2-core machine is shared and single slow iterations say more about neighbours than about us).

const RECORD_BYTES = 256;
const ROUNDS: Record<number, number> = { 1: 200, 16: 40, 256: 12 };
const samples = new Map<string, { records: number; ms: number[] }>();
const dirs: string[] = [];
/** Appends per fdatasync in the last iteration, by concurrency. */
const coverage = new Map<number, number>();
const payload = new Uint8Array(RECORD_BYTES).fill(0x61);

function note(name: string, records: number, ms: number): void {
  const entry = samples.get(name) ?? { records, ms: [] };
  entry.ms.push(ms);
  samples.set(name, entry);
}

/** Records per second at the median iteration time. */
function rate(name: string): number | undefined {
  const entry = samples.get(name);
  if (entry === undefined) return undefined;
  const sorted = [...entry.ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  return (entry.records / median) * 1000;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "raft-wal-bench-"));
  dirs.push(dir);
  return dir;
}

async function walRun(store: GroupStore, concurrency: number, rounds: number): Promise<void> {
  let next = store.lastIndex + 1;
  const appender = async (): Promise<void> => {
    for (let r = 0; r < rounds; r++) {
      const index = next++;
      await store.append([{ index, term: 1, data: payload }]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, appender));
}

interface RawFile {
  readonly handle: FileHandle;
  position: number;
}

async function rawRun(raw: RawFile, concurrency: number, rounds: number): Promise<void> {
  const batch = new Uint8Array((RECORD_HEADER_BYTES + RECORD_BYTES) * concurrency).fill(0x61);
  for (let r = 0; r < rounds; r++) {
    await raw.handle.write(batch, 0, batch.length, raw.position);
    raw.position += batch.length;
    await raw.handle.datasync();
  }
}

for (const concurrency of [1, 16, 256]) {
  const rounds = ROUNDS[concurrency] as number;
  const records = concurrency * rounds;
  describe(`${concurrency} concurrent appenders, ${records} records of ${RECORD_BYTES} B`, () => {
    let store: GroupStore | undefined;
    let raw: RawFile | undefined;
    // One iteration runs the WAL and then the raw baseline back to back, so both see the same
    // load from neighbours; the summary compares them pair by pair.
    bench(
      `wal then raw, c=${concurrency}`,
      async () => {
        const before = (store as GroupStore).stats;
        const a = performance.now();
        await walRun(store as GroupStore, concurrency, rounds);
        const b = performance.now();
        await rawRun(raw as RawFile, concurrency, rounds);
        const c = performance.now();
        note(`wal c=${concurrency}`, records, b - a);
        note(`raw c=${concurrency}`, records, c - b);
        const after = (store as GroupStore).stats;
        coverage.set(concurrency, (after.appends - before.appends) / (after.syncs - before.syncs));
      },
      {
        iterations: 15,
        time: 0,
        warmupIterations: 3,
        async setup(): Promise<void> {
          const dir = await tempDir();
          store ??= await openGroupStore(join(dir, "wal"), { disk: createNodeDisk() });
          raw ??= { handle: await open(join(dir, "raw.bin"), "w+"), position: 0 };
        },
      },
    );
  });
}

/** Median over iteration pairs of wal throughput / raw throughput. */
function pairedRatio(concurrency: number): number | undefined {
  const wal = samples.get(`wal c=${concurrency}`)?.ms;
  const raw = samples.get(`raw c=${concurrency}`)?.ms;
  if (wal === undefined || raw === undefined) return undefined;
  const ratios = wal.map((w, k) => (raw[k] as number) / w).sort((a, b) => a - b);
  return ratios[Math.floor(ratios.length / 2)];
}

afterAll(async () => {
  const lines = ["", "variant      records/s      MB/s   wal/raw (median of paired iterations)"];
  for (const concurrency of [1, 16, 256]) {
    const wal = rate(`wal c=${concurrency}`);
    const raw = rate(`raw c=${concurrency}`);
    for (const [name, perSecond] of [
      [`wal c=${concurrency}`, wal],
      [`raw c=${concurrency}`, raw],
    ] as const) {
      if (perSecond === undefined) continue;
      const mb = (perSecond * RECORD_BYTES) / 1e6;
      const paired = pairedRatio(concurrency);
      const ratio =
        name.startsWith("wal") && paired !== undefined ? `${(paired * 100).toFixed(0)}%` : "";
      lines.push(
        `${name.padEnd(10)} ${perSecond.toFixed(0).padStart(11)} ${mb.toFixed(2).padStart(9)} ${ratio.padStart(9)}`,
      );
    }
  }
  for (const [concurrency, perSync] of coverage) {
    lines.push(`appends per fdatasync at c=${concurrency}: ${perSync.toFixed(1)}`);
  }
  console.log(lines.join("\n"));
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
