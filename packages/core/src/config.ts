import { RaftCoreError } from "./errors";
import type { RaftTiming } from "./types";

/** Timing with every default filled in (spec §4). */
export interface ResolvedTiming {
  readonly electionTimeoutMinMs: number;
  readonly electionTimeoutMaxMs: number;
  readonly heartbeatIntervalMs: number;
  readonly lostQuorumIntervalMs: number;
  readonly lostQuorumCheckMs: number;
  readonly campaignMinMs: number;
  readonly campaignMaxMs: number;
  readonly campaignImmediatelyMs: number;
  readonly leaderTransferCampaignMs: number;
  readonly observerTimeoutMs: number;
  readonly catchupStallMs: number;
}

/** nats-server's defaults (spec §4). */
export const DEFAULT_TIMING: ResolvedTiming = {
  electionTimeoutMinMs: 4_000,
  electionTimeoutMaxMs: 9_000,
  heartbeatIntervalMs: 1_000,
  lostQuorumIntervalMs: 10_000,
  lostQuorumCheckMs: 10_000,
  campaignMinMs: 100,
  campaignMaxMs: 800,
  campaignImmediatelyMs: 50,
  leaderTransferCampaignMs: 10,
  observerTimeoutMs: 48 * 3_600_000,
  catchupStallMs: 2_000,
};

/** Fill defaults and check ranges; throws `RaftCoreError` `INVALID_OPTIONS`. */
export function resolveTiming(timing: RaftTiming | undefined): ResolvedTiming {
  const t: ResolvedTiming = { ...DEFAULT_TIMING, ...stripUndefined(timing ?? {}) };
  for (const [name, value] of Object.entries(t)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RaftCoreError("INVALID_OPTIONS", `timing.${name} must be a positive number`);
    }
  }
  if (t.electionTimeoutMaxMs < t.electionTimeoutMinMs || t.campaignMaxMs < t.campaignMinMs) {
    throw new RaftCoreError("INVALID_OPTIONS", "timing: a max is below its min");
  }
  return t;
}

function stripUndefined(timing: RaftTiming): Partial<ResolvedTiming> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(timing)) if (typeof v === "number") out[k] = v;
  return out as Partial<ResolvedTiming>;
}

/** Most bytes of entries (Σ data length + 1) a leader puts in one append entry (spec §4). */
export const BATCH_BYTES_MAX: number = 256 * 1024;
/** Most entries a leader puts in one append entry (spec §4; v2.9.10 allowed 65,535). */
export const BATCH_ENTRIES_MAX: number = 4096;
/** Catchup: bytes streamed per request (spec §4). */
export const CATCHUP_BYTES_MAX: number = 2 * 1024 * 1024;
/** Committed indexes handed out per `Ready`, so that a long replay does not build one huge batch. */
export const COMMITTED_PER_READY_MAX: number = 8_192;
