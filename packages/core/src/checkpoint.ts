import { forUpperLayer } from "./apply";
import type { RaftCore } from "./node";
import type { CommittedEntry, SnapshotCheckpoint, SnapshotRecord, SnapshotResult } from "./types";
import { RaftState } from "./types";

/**
 * The asynchronous snapshot checkpoint (spec §1 `CreateSnapshotCheckpoint`): the upper layer
 * builds a snapshot off the apply path from the last snapshot plus the committed entries since,
 * then installs it at the index the checkpoint was taken at, or aborts. One checkpoint at a time;
 * while one is open a plain `installSnapshot` is refused (`BUSY`) unless forced, which aborts it.
 */
export class Checkpoint implements SnapshotCheckpoint {
  readonly lastSnapshot: SnapshotRecord | undefined;
  readonly index: number;
  private readonly node: RaftCore;
  private readonly from: number;
  private open = true;

  constructor(node: RaftCore) {
    this.node = node;
    this.lastSnapshot = node.snap;
    this.from = node.log.baseIndex + 1;
    this.index = node.appliedIndex;
  }

  *entries(): Iterable<CommittedEntry> {
    for (let i = this.from; i <= this.index; i++) {
      // The log may have moved on (a leader's snapshot, a reset): stop at the first gap.
      if (!this.open) return;
      const ae = this.node.log.entry(i);
      if (ae === undefined) return;
      yield { index: i, entries: forUpperLayer(ae.entries) };
    }
  }

  install(data: Uint8Array): SnapshotResult {
    const node = this.node;
    if (node.state === RaftState.Closed) return { ok: false, code: "CLOSED" };
    if (!this.open) return { ok: false, code: "NOTHING_APPLIED" };
    const r = node.installSnapshotAt(data, this.index);
    // A snapshot still on its way to disk: the checkpoint stays open, the caller may retry.
    if (r.ok || r.code !== "BUSY") this.close();
    return r;
  }

  abort(): void {
    this.close();
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.node.checkpoint === this) this.node.checkpoint = undefined;
  }
}

/** `createSnapshotCheckpoint(force)`: undefined when nothing is applied beyond the snapshot. */
export function createCheckpoint(node: RaftCore, force: boolean): SnapshotCheckpoint | undefined {
  if (node.state === RaftState.Closed || node.appliedIndex <= node.log.baseIndex) return undefined;
  const open = node.checkpoint;
  if (open !== undefined) {
    if (!force) return undefined;
    open.abort();
  }
  const c = new Checkpoint(node);
  node.checkpoint = c;
  return c;
}
