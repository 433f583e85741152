import fc from "fast-check";
import type {
  AppendEntry,
  AppendEntryResponse,
  Entry,
  EntryType,
  PeerState,
  VoteRequest,
  VoteResponse,
} from "../../src/index";

/** A node id: 8 printable ASCII characters without space (0x21–0x7e). */
export const nodeIdArb: fc.Arbitrary<string> = fc
  .array(fc.integer({ min: 0x21, max: 0x7e }), { minLength: 8, maxLength: 8 })
  .map((codes) => String.fromCharCode(...codes));

/** u64 values carried as safe integers, biased toward the edges. */
export const u64Arb: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.constantFrom(0, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER),
  fc.maxSafeNat(),
);

const wireEntryTypeArb: fc.Arbitrary<EntryType> = fc.constantFrom(0, 1, 2, 3, 4, 5, 6);

export const entryArb: fc.Arbitrary<Entry> = fc.record({
  type: wireEntryTypeArb,
  data: fc.uint8Array({ maxLength: 64 }),
});

export function appendEntryArb(withLterm: boolean): fc.Arbitrary<AppendEntry> {
  return fc.record({
    leader: fc.oneof(fc.constant(""), nodeIdArb),
    term: u64Arb,
    commit: u64Arb,
    pterm: u64Arb,
    pindex: u64Arb,
    entries: fc.array(entryArb, { maxLength: 12 }),
    lterm: withLterm ? u64Arb : fc.constant(0),
  });
}

export const appendEntryResponseArb: fc.Arbitrary<AppendEntryResponse> = fc.record({
  term: u64Arb,
  index: u64Arb,
  peer: nodeIdArb,
  success: fc.boolean(),
});

export const voteRequestArb: fc.Arbitrary<VoteRequest> = fc.record({
  term: u64Arb,
  lastTerm: u64Arb,
  lastIndex: u64Arb,
  candidate: nodeIdArb,
});

export function voteResponseArb(withEmpty: boolean): fc.Arbitrary<VoteResponse> {
  return fc.record({
    term: u64Arb,
    peer: nodeIdArb,
    granted: fc.boolean(),
    empty: withEmpty ? fc.boolean() : fc.constant(false),
  });
}

export const peerStateArb: fc.Arbitrary<PeerState> = fc.record({
  clusterSize: fc.nat({ max: 0xffff_ffff }),
  peers: fc.array(nodeIdArb, { maxLength: 9 }),
  extState: fc.oneof(fc.constantFrom(0, 1, 2), fc.nat({ max: 0xffff })),
});
