import { describe, expect, it } from "vitest";
import {
  type GroupStore,
  type LogRecord,
  openGroupStore,
  type SyncPolicy,
  type TermVote,
} from "../src/index";
import { createFaultyDisk, type FaultyDisk, Prng } from "../src/testing/index";

// ALICE in miniature: a seeded random sequence of store operations (some issued concurrently) runs
// on the page-cache model; power is cut after a random number of disk mutations (every operation
// boundary and every point inside one is reachable), the crash tears the last unsynced write, and
// the reopened store must show a state the sequence could have left, holding everything whose
// promise resolved. Replay one case with SEED=<seed> [CUT=<n>] pnpm test crash-points.

type Op =
  | { kind: "append"; records: LogRecord[] }
  | { kind: "truncate"; index: number }
  | { kind: "compact"; index: number }
  | { kind: "termVote"; value: TermVote }
  | { kind: "peers"; bytes: Uint8Array }
  | { kind: "snapshot"; term: number; index: number; data: Uint8Array };

interface State {
  readonly first: number;
  readonly log: readonly LogRecord[];
  readonly termVote: TermVote;
  readonly peers: Uint8Array | undefined;
  readonly snapshot: { term: number; index: number; data: Uint8Array } | undefined;
}

interface Scenario {
  readonly steps: Op[][];
  /** states[j] is the state after the first j operations. */
  readonly states: State[];
  /** noop[j] is true when operation j (1-based) changes nothing (and may resolve at once). */
  readonly noop: boolean[];
  readonly segmentBytes: number;
  readonly cacheEntries: number;
}

function apply(state: State, op: Op): State {
  switch (op.kind) {
    case "append":
      return { ...state, log: [...state.log, ...op.records] };
    case "truncate":
      return { ...state, log: state.log.slice(0, Math.max(0, op.index + 1 - state.first)) };
    case "compact": {
      if (op.index <= state.first) return state;
      return { ...state, first: op.index, log: state.log.slice(op.index - state.first) };
    }
    case "termVote":
      return { ...state, termVote: op.value };
    case "peers":
      return { ...state, peers: op.bytes };
    case "snapshot":
      return { ...state, snapshot: { term: op.term, index: op.index, data: op.data } };
  }
}

function generate(prng: Prng, logOnly = false): Scenario {
  let state: State = {
    first: 1,
    log: [],
    termVote: { term: 0, vote: "" },
    peers: undefined,
    snapshot: undefined,
  };
  const states: State[] = [state];
  const noop: boolean[] = [false];
  const steps: Op[][] = [];
  let term = 1;
  let snapIndex = 0;
  const stepCount = 4 + prng.int(14);
  for (let s = 0; s < stepCount; s++) {
    const group: Op[] = [];
    const size = prng.chance(0.35) ? 2 + prng.int(5) : 1;
    for (let g = 0; g < size; g++) {
      const last = state.first + state.log.length - 1;
      const roll = logOnly ? prng.int(77) : prng.int(100);
      let op: Op;
      if (roll < 55) {
        if (prng.chance(0.15)) term++;
        const records: LogRecord[] = [];
        const count = 1 + prng.int(4);
        for (let i = 1; i <= count; i++) {
          records.push({ index: last + i, term, data: prng.bytes(prng.int(48)) });
        }
        op = { kind: "append", records };
      } else if (roll < 67) {
        op = { kind: "truncate", index: state.first - 1 + prng.int(state.log.length + 1) };
      } else if (roll < 77) {
        op = { kind: "compact", index: state.first + prng.int(state.log.length + 3) };
      } else if (roll < 87) {
        term += prng.int(2);
        const vote = prng.chance(0.5) ? "" : `n${prng.int(1000)}`;
        op = { kind: "termVote", value: { term, vote } };
      } else if (roll < 93) {
        op = { kind: "peers", bytes: prng.bytes(prng.int(30)) };
      } else {
        snapIndex += 1 + prng.int(5);
        op = { kind: "snapshot", term, index: snapIndex, data: prng.bytes(prng.int(300)) };
      }
      const next = apply(state, op);
      noop.push(
        (op.kind === "truncate" && next.log.length === state.log.length) ||
          (op.kind === "compact" && next === state),
      );
      state = next;
      states.push(state);
      group.push(op);
    }
    steps.push(group);
  }
  return {
    steps,
    states,
    noop,
    segmentBytes: 100 + prng.int(400),
    cacheEntries: prng.int(8),
  };
}

function issue(store: GroupStore, op: Op): Promise<void> {
  switch (op.kind) {
    case "append":
      return store.append(op.records);
    case "truncate":
      return store.truncateAfter(op.index);
    case "compact":
      return store.compactBefore(op.index);
    case "termVote":
      return store.setTermVote(op.value);
    case "peers":
      return store.setPeerState(op.bytes);
    case "snapshot":
      return store.saveSnapshot({
        term: op.term,
        index: op.index,
        peerState: new Uint8Array(0),
        data: op.data,
      });
  }
}

/** Runs the scenario; returns the 1-based numbers of operations whose promise resolved. */
async function run(
  disk: FaultyDisk,
  scenario: Scenario,
  syncPolicy: SyncPolicy = "always",
): Promise<number[]> {
  const resolved: number[] = [];
  let store: GroupStore;
  try {
    store = await openGroupStore("/g", {
      disk,
      syncPolicy,
      segmentBytes: scenario.segmentBytes,
      cacheEntries: scenario.cacheEntries,
    });
  } catch {
    return resolved;
  }
  let n = 0;
  for (const group of scenario.steps) {
    const settled = group.map((op) => {
      const number = ++n;
      return issue(store, op).then(
        () => resolved.push(number),
        () => undefined,
      );
    });
    await Promise.all(settled);
  }
  return resolved;
}

interface Observed {
  readonly first: number;
  readonly log: LogRecord[];
  readonly termVote: TermVote;
  readonly peers: Uint8Array | undefined;
  readonly snapshot: { term: number; index: number; data: Uint8Array } | undefined;
}

async function observe(store: GroupStore): Promise<Observed> {
  const log: LogRecord[] = [];
  for (let index = store.firstIndex; index <= store.lastIndex; index++) {
    log.push({ index, term: store.term(index), data: store.read(index) });
  }
  const snap = await store.loadSnapshot();
  return {
    first: store.firstIndex,
    log,
    termVote: store.termVote,
    peers: store.peerState,
    snapshot:
      snap === undefined ? undefined : { term: snap.term, index: snap.index, data: snap.data },
  };
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameRecord(a: LogRecord | undefined, b: LogRecord | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.index === b.index &&
    a.term === b.term &&
    sameBytes(a.data, b.data)
  );
}

/** Whether `short` is a prefix of `long` (both starting at the same index). */
function isPrefix(short: readonly LogRecord[], long: readonly LogRecord[]): boolean {
  return short.length <= long.length && short.every((r, i) => sameRecord(r, long[i]));
}

function sameExceptLog(o: Observed, s: State): boolean {
  return (
    o.termVote.term === s.termVote.term &&
    o.termVote.vote === s.termVote.vote &&
    sameBytes(o.peers, s.peers) &&
    (o.snapshot === undefined
      ? s.snapshot === undefined
      : s.snapshot !== undefined &&
        o.snapshot.term === s.snapshot.term &&
        o.snapshot.index === s.snapshot.index &&
        sameBytes(o.snapshot.data, s.snapshot.data))
  );
}

/** Whether the observed state is one the scenario may leave when ops ≤ `done` are durable. */
function explainable(o: Observed, scenario: Scenario, done: number): boolean {
  const { states } = scenario;
  const ops = scenario.steps.flat();
  for (let j = done; j < states.length; j++) {
    const s = states[j] as State;
    if (!sameExceptLog(o, s) || o.first !== s.first) continue;
    if (o.log.length === s.log.length && isPrefix(o.log, s.log)) return true;
    // A run of appends after j may be partly durable (one group-commit round, possibly torn).
    for (let k = j; k < ops.length && (ops[k] as Op).kind === "append"; k++) {
      const later = states[k + 1] as State;
      if (isPrefix(s.log, o.log) && isPrefix(o.log, later.log)) return true;
    }
    // A truncation after j may be partly done (later segments unlinked, file not yet cut).
    const op = ops[j];
    const after = states[j + 1];
    if (op?.kind === "truncate" && after !== undefined) {
      if (isPrefix(after.log, o.log) && isPrefix(o.log, s.log)) return true;
    }
  }
  return false;
}

/**
 * The scenario of `seed`, its sector size, and a probe run of it on a disk that never fails (how
 * many mutations it makes). `prng` continues after those draws, for the case's own choices.
 */
async function probed(seed: number): Promise<{
  prng: Prng;
  scenario: Scenario;
  sectorBytes: number;
  probe: FaultyDisk;
}> {
  const prng = new Prng(seed);
  const scenario = generate(prng);
  const sectorBytes = [8, 32, 512][prng.int(3)] as number;
  const probe = createFaultyDisk({ seed, sectorBytes });
  await run(probe, scenario);
  return { prng, scenario, sectorBytes, probe };
}

/** Disk mutations the scenario of `seed` makes when nothing fails. */
async function mutationsOf(seed: number): Promise<number> {
  return (await probed(seed)).probe.mutations;
}

/** One crash case; `at` fixes the power cut, otherwise the seed picks it. */
async function crashCase(seed: number, crash: { reorder: boolean; at?: number }): Promise<void> {
  const { prng, scenario, sectorBytes, probe } = await probed(seed);
  const disk = createFaultyDisk({ seed, sectorBytes });
  const picked = prng.int(probe.mutations + 2);
  const cut = crash.at ?? picked;
  disk.powerCutAfter(cut);
  const resolved = await run(disk, scenario);
  disk.crash({ tornWrites: true, reorder: crash.reorder });
  const done = Math.max(0, ...resolved.filter((n) => !scenario.noop[n]));
  const replay = crash.at === undefined ? `SEED=${seed}` : `SEED=${seed} CUT=${cut}`;
  const where = `seed=${seed} cut=${cut}/${probe.mutations} done=${done} (replay: ${replay})`;
  const store = await openGroupStore("/g", { disk, segmentBytes: scenario.segmentBytes });
  expect(store.recovery.corrupt, `mid-log damage reported after a clean crash, ${where}`).toEqual(
    [],
  );
  // A power cut tears only unsynced writes, which the mark never covers: no false "lost tail",
  // which would keep a healthy node from campaigning after a full power loss.
  expect(store.recovery.lostTail, `lost tail reported after a clean crash, ${where}`).toBe(
    undefined,
  );
  const observed = await observe(store);
  if (!explainable(observed, scenario, done)) {
    const summary = observed.log.map((r) => `${r.index}/t${r.term}`).join(" ");
    throw new Error(
      `unexplainable state after crash, ${where}: first=${observed.first} log=[${summary}]`,
    );
  }
  // The recovered store must accept new work and keep it.
  const next = store.lastIndex + 1;
  const term = Math.max(store.lastTerm, 1_000);
  await store.append([{ index: next, term, data: new Uint8Array([1, 2, 3]) }]);
  await store.close();
  const again = await openGroupStore("/g", { disk, segmentBytes: scenario.segmentBytes });
  expect(again.lastIndex, where).toBe(next);
  expect([...again.read(next)], where).toEqual([1, 2, 3]);
  await again.close();
}

/**
 * A process killed at a random mutation (its page cache survives), a restart on that cache, one
 * new append, then a power cut. What the restarted store reported (log, term/vote, peer state,
 * snapshot) was what the Raft layer would act on, so all of it must survive the power cut, plus
 * the new append.
 */
async function killCase(seed: number): Promise<void> {
  const { prng, scenario, sectorBytes, probe } = await probed(seed);
  const disk = createFaultyDisk({ seed, sectorBytes });
  const cut = prng.int(probe.mutations + 2);
  disk.powerCutAfter(cut);
  await run(disk, scenario);
  disk.kill();
  const where = `seed=${seed} kill at ${cut}/${probe.mutations} (replay: KILL_SEED=${seed})`;
  const options = { disk, segmentBytes: scenario.segmentBytes };
  const restarted = await openGroupStore("/g", options);
  const seen = await observe(restarted);
  const next = restarted.lastIndex + 1;
  const term = Math.max(restarted.lastTerm, 1_000);
  const record = { index: next, term, data: new Uint8Array([4, 5, 6]) };
  await restarted.append([record]);
  disk.crash({ tornWrites: true, reorder: prng.chance(0.5) });
  const after = await observe(await openGroupStore("/g", options));
  expect(after.first, where).toBe(seen.first);
  expect(after.termVote, where).toEqual(seen.termVote);
  expect(sameBytes(after.peers, seen.peers), `peer state, ${where}`).toBe(true);
  expect(after.snapshot?.index, where).toBe(seen.snapshot?.index);
  expect(after.snapshot?.term, where).toBe(seen.snapshot?.term);
  expect(isPrefix([...seen.log, record], after.log), `log, ${where}`).toBe(true);
  expect(after.log.length, where).toBe(seen.log.length + 1);
}

/**
 * With an interval sync policy acknowledged appends may be lost, but what survives must still be
 * a prefix of some state the sequence passed through, with no garbage and no false corruption:
 * this exercises recovery with several unsynced rounds at the tail.
 */
async function intervalCrashCase(seed: number): Promise<void> {
  const prng = new Prng(seed);
  const scenario = generate(prng, true);
  const disk = createFaultyDisk({ seed, sectorBytes: [8, 32, 512][prng.int(3)] as number });
  const policy = { intervalMs: 60_000 };
  const probe = createFaultyDisk({ seed });
  await run(probe, scenario, policy);
  disk.powerCutAfter(prng.int(probe.mutations + 2));
  await run(disk, scenario, policy);
  disk.crash({ tornWrites: true, reorder: prng.chance(0.5) });
  const store = await openGroupStore("/g", { disk, segmentBytes: scenario.segmentBytes });
  const where = `seed=${seed} (replay: INTERVAL_SEED=${seed})`;
  expect(store.recovery.corrupt, where).toEqual([]);
  expect(store.recovery.lostTail, where).toBe(undefined);
  const observed = await observe(store);
  const fits = scenario.states.some(
    (state) => state.first === observed.first && isPrefix(observed.log, state.log),
  );
  if (!fits) throw new Error(`log is not a prefix of any state, ${where}`);
  await store.close();
}

const { SEED: REPLAY, CUT, INTERVAL_SEED, KILL_SEED } = process.env;

describe("GroupStore crash points", () => {
  if (KILL_SEED !== undefined) {
    it(`replays kill seed ${KILL_SEED}`, () => killCase(Number(KILL_SEED)));
    return;
  }
  if (INTERVAL_SEED !== undefined) {
    it(`replays interval seed ${INTERVAL_SEED}`, () => intervalCrashCase(Number(INTERVAL_SEED)));
    return;
  }
  if (REPLAY !== undefined) {
    it(`replays seed ${REPLAY}`, async () => {
      const at = CUT === undefined ? undefined : Number(CUT);
      await crashCase(
        Number(REPLAY),
        at === undefined ? { reorder: false } : { reorder: false, at },
      );
      await crashCase(Number(REPLAY), at === undefined ? { reorder: true } : { reorder: true, at });
    });
    return;
  }

  it("recovers after a crash at every disk mutation of 12 seeded scenarios", async () => {
    let cases = 0;
    for (let seed = 200_001; seed <= 200_012; seed++) {
      const total = await mutationsOf(seed);
      for (let at = 0; at <= total; at++) {
        await crashCase(seed, { reorder: at % 2 === 1, at });
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(1000);
  });

  it("recovers a durable prefix after 1,500 seeded crashes with torn last writes", async () => {
    for (let seed = 1; seed <= 1500; seed++) await crashCase(seed, { reorder: false });
  });

  it("keeps a garbage-free prefix after 400 crashes with the interval sync policy", async () => {
    for (let seed = 300_001; seed <= 300_400; seed++) await intervalCrashCase(seed);
  });

  it("keeps everything a store restarted after a kill reported, through 600 later power cuts", async () => {
    for (let seed = 400_001; seed <= 400_600; seed++) await killCase(seed);
  });

  it("recovers a durable prefix after 600 seeded crashes with reordered page-cache flushes", async () => {
    for (let seed = 100_001; seed <= 100_600; seed++) await crashCase(seed, { reorder: true });
  });
});
