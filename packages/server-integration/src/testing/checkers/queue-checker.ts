import type { HistoryEvent, PairedOperation } from "./history";
import { pairHistory } from "./history";
import { HistoryError } from "./history-error";

/** Everything one node returned when drained at the end, in stream order (position 0 first). */
export interface QueueRead {
  readonly node: string;
  readonly values: readonly string[];
}

/**
 * Input of {@link checkQueue}. `history` holds the appends: `f = "append"` (or
 * `options.appendF`), `invoke` value = a unique `"producer-counter"` string such as `"3-17"`;
 * completions `ok` (acknowledged), `fail` (certainly not appended) or `info` (indeterminate).
 * Events with another `f` are ignored. `reads` holds one final read per node (or a single
 * cluster-wide read under any node name).
 */
export interface QueueCheckInput {
  readonly history: readonly HistoryEvent[];
  readonly reads: readonly QueueRead[];
}

/** Options of {@link checkQueue}. */
export interface QueueCheckOptions {
  /**
   * When true, a node missing only a suffix of a producer's values (per-node lost-postfix) is
   * reported but does not make the report invalid (that node's drain may have lagged). Default
   * false: after heal every node must hold every acknowledged value.
   */
  readonly allowNodeLag?: boolean;
  /** The `f` of append operations. Default `"append"`. */
  readonly appendF?: string;
  /** How many order violations are listed (all are counted). Default 100. */
  readonly maxOrderViolations?: number;
}

/**
 * Acknowledged values never read, split per producer relative to that producer's first and last
 * OK (attempted and read) value: before the first = `prefix`, after the last = `postfix`, the rest
 * = `middle` (unambiguous loss). A producer with no OK value at all has neither bound, so all its
 * lost values count as `middle`. Each list is sorted by producer, then counter.
 */
export interface LostValues {
  readonly prefix: readonly string[];
  readonly middle: readonly string[];
  readonly postfix: readonly string[];
  readonly count: number;
}

/** The lost analysis restricted to what one node returned. */
export interface NodeAnalysis {
  readonly node: string;
  readonly readCount: number;
  readonly duplicateCount: number;
  readonly lost: LostValues;
  /** False when the node lost an acknowledged value (postfix only counts without `allowNodeLag`). */
  readonly valid: boolean;
}

/** A value read on some nodes but not on others (divergence, split brain or a lagging node). */
export interface DivergentValue {
  readonly value: string;
  readonly missingOn: readonly string[];
}

/** Two nodes holding different values at the same position: their committed logs diverged. */
export interface DivergentReplicas {
  readonly nodeA: string;
  readonly nodeB: string;
  readonly position: number;
  readonly valueA: string;
  readonly valueB: string;
}

/**
 * A real-time order violation on one node: `earlier` was acknowledged before `later` was invoked,
 * yet `later` sits at a smaller position.
 */
export interface OrderViolation {
  readonly node: string;
  readonly earlier: string;
  readonly later: string;
  readonly earlierPosition: number;
  readonly laterPosition: number;
}

/** The full report of {@link checkQueue}; `valid` summarises every violation category. */
export interface QueueReport {
  readonly valid: boolean;
  readonly attempted: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly indeterminate: number;
  /** Attempted and read (anywhere). */
  readonly okCount: number;
  /** Acknowledged but read on no node. */
  readonly lost: LostValues;
  /** Read but never attempted. */
  readonly unexpected: readonly string[];
  /** Read although the append was indeterminate: allowed. */
  readonly recovered: readonly string[];
  /** Read although the append definitely failed: a violation. */
  readonly failedButRead: readonly string[];
  /** Values read more than once on at least one node (allowed: at-least-once), sorted. */
  readonly duplicates: readonly string[];
  /** Extra copies summed over all nodes. */
  readonly duplicateCount: number;
  readonly nodes: readonly NodeAnalysis[];
  readonly divergent: readonly DivergentValue[];
  readonly divergentReplicas: readonly DivergentReplicas[];
  readonly orderViolations: readonly OrderViolation[];
  readonly orderViolationCount: number;
}

interface ParsedValue {
  readonly producer: string;
  readonly counter: number;
}

const VALUE_PATTERN = /^(.*)-(\d{1,15})$/;

function parseValue(value: string): ParsedValue | undefined {
  const match = VALUE_PATTERN.exec(value);
  if (match === null) return undefined;
  return { producer: match[1] as string, counter: Number(match[2]) };
}

/** Sorts by producer, then numeric counter; unparsable values last, by plain string order. */
function sorted(values: Iterable<string>): string[] {
  // Decorate once: parsing inside the comparator would cost a regex run per comparison.
  const decorated = [...values].map((value) => ({ value, parsed: parseValue(value) }));
  decorated.sort((a, b) => {
    const pa = a.parsed;
    const pb = b.parsed;
    if (pa === undefined || pb === undefined) {
      if (pa !== pb) return pa === undefined ? 1 : -1;
      return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
    }
    if (pa.producer !== pb.producer) return pa.producer < pb.producer ? -1 : 1;
    return pa.counter - pb.counter;
  });
  return decorated.map((d) => d.value);
}

/** Appends by value, after validation. */
interface Appends {
  readonly byValue: Map<string, PairedOperation>;
  readonly parsed: Map<string, ParsedValue>;
  readonly acknowledged: Set<string>;
  /** The acknowledged values, sorted by producer then counter. */
  readonly acknowledgedSorted: readonly string[];
}

function collectAppends(history: readonly HistoryEvent[], appendF: string): Appends {
  const byValue = new Map<string, PairedOperation>();
  const parsed = new Map<string, ParsedValue>();
  const acknowledged = new Set<string>();
  const appendEvents = history.filter((event) => event.f === appendF);
  for (const op of pairHistory(appendEvents)) {
    const value = op.input;
    const parts = typeof value === "string" ? parseValue(value) : undefined;
    if (typeof value !== "string" || parts === undefined) {
      throw new HistoryError(
        "BAD_OPERATION",
        `append ${op.index} has value ${JSON.stringify(value)}; expected "producer-counter"`,
        op.index,
      );
    }
    if (byValue.has(value)) {
      throw new HistoryError("DUPLICATE_VALUE", `value ${value} is appended twice`, op.index);
    }
    byValue.set(value, op);
    parsed.set(value, parts);
    if (op.status === "ok") acknowledged.add(value);
  }
  return { byValue, parsed, acknowledged, acknowledgedSorted: sorted(acknowledged) };
}

/** Splits acknowledged values missing from `present` by the producers' first/last OK values. */
function lostValues(appends: Appends, present: ReadonlySet<string>): LostValues {
  const bounds = new Map<string, { first: number; last: number }>();
  for (const value of present) {
    const parsed = appends.parsed.get(value);
    if (parsed === undefined) continue;
    const bound = bounds.get(parsed.producer);
    if (bound === undefined)
      bounds.set(parsed.producer, { first: parsed.counter, last: parsed.counter });
    else {
      bound.first = Math.min(bound.first, parsed.counter);
      bound.last = Math.max(bound.last, parsed.counter);
    }
  }
  const prefix: string[] = [];
  const middle: string[] = [];
  const postfix: string[] = [];
  for (const value of appends.acknowledgedSorted) {
    if (present.has(value)) continue;
    const parsed = appends.parsed.get(value) as ParsedValue;
    const bound = bounds.get(parsed.producer);
    if (bound !== undefined && parsed.counter < bound.first) prefix.push(value);
    else if (bound !== undefined && parsed.counter > bound.last) postfix.push(value);
    else middle.push(value);
  }
  return { prefix, middle, postfix, count: prefix.length + middle.length + postfix.length };
}

/**
 * The Jepsen queue checker, extended with ordered-stream checks: lost (prefix / middle / postfix),
 * unexpected, recovered, failed-but-read, duplicates, the same lost analysis per node, values
 * missing on some nodes only, replicas that differ at one position, and real-time order (an append
 * acknowledged before another was invoked must sit at a smaller position on every node holding
 * both). Runs in O(n log n + nodes² · length).
 *
 * @throws {HistoryError} codes of {@link pairHistory}, `BAD_OPERATION` for a non
 *   `"producer-counter"` append value or a node read twice, `DUPLICATE_VALUE` for a value
 *   appended twice.
 */
export function checkQueue(input: QueueCheckInput, options: QueueCheckOptions = {}): QueueReport {
  const appends = collectAppends(input.history, options.appendF ?? "append");
  const seenNodes = new Set<string>();
  for (const read of input.reads) {
    if (seenNodes.has(read.node)) {
      throw new HistoryError("BAD_OPERATION", `node ${read.node} has two final reads`);
    }
    seenNodes.add(read.node);
  }
  const union = new Set<string>();
  for (const read of input.reads) for (const value of read.values) union.add(value);

  const unexpected: string[] = [];
  const recovered: string[] = [];
  const failedButRead: string[] = [];
  let okCount = 0;
  for (const value of union) {
    const op = appends.byValue.get(value);
    if (op === undefined) unexpected.push(value);
    else {
      okCount++;
      if (op.status === "info") recovered.push(value);
      if (op.status === "fail") failedButRead.push(value);
    }
  }
  let failed = 0;
  let indeterminate = 0;
  for (const op of appends.byValue.values()) {
    if (op.status === "fail") failed++;
    if (op.status === "info") indeterminate++;
  }

  const lost = lostValues(appends, union);
  const nodes = input.reads.map((read) =>
    analyseNode(read, appends, options.allowNodeLag === true),
  );
  const duplicates = new Set<string>();
  for (const read of input.reads)
    for (const value of repeatedValues(read.values)) duplicates.add(value);
  const duplicateCount = nodes.reduce((sum, node) => sum + node.duplicateCount, 0);
  const divergent = divergentValues(input.reads, union);
  const divergentReplicas = compareReplicas(input.reads);
  const order = checkRealTimeOrder(input.reads, appends, options.maxOrderViolations ?? 100);

  const valid =
    lost.count === 0 &&
    unexpected.length === 0 &&
    failedButRead.length === 0 &&
    divergentReplicas.length === 0 &&
    order.count === 0 &&
    nodes.every((node) => node.valid);
  return {
    valid,
    attempted: appends.byValue.size,
    acknowledged: appends.acknowledged.size,
    failed,
    indeterminate,
    okCount,
    lost,
    unexpected: sorted(unexpected),
    recovered: sorted(recovered),
    failedButRead: sorted(failedButRead),
    duplicates: sorted(duplicates),
    duplicateCount,
    nodes,
    divergent,
    divergentReplicas,
    orderViolations: order.listed,
    orderViolationCount: order.count,
  };
}

function repeatedValues(values: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) repeated.add(value);
    seen.add(value);
  }
  return repeated;
}

function analyseNode(read: QueueRead, appends: Appends, allowNodeLag: boolean): NodeAnalysis {
  const present = new Set(read.values);
  const lost = lostValues(appends, present);
  const holes = lost.prefix.length + lost.middle.length;
  return {
    node: read.node,
    readCount: read.values.length,
    duplicateCount: read.values.length - present.size,
    lost,
    valid: holes === 0 && (allowNodeLag || lost.postfix.length === 0),
  };
}

function divergentValues(
  reads: readonly QueueRead[],
  union: ReadonlySet<string>,
): DivergentValue[] {
  const sets = reads.map((read) => ({ node: read.node, values: new Set(read.values) }));
  const divergent: DivergentValue[] = [];
  for (const value of sorted(union)) {
    const missingOn = sets.filter((s) => !s.values.has(value)).map((s) => s.node);
    if (missingOn.length > 0) divergent.push({ value, missingOn });
  }
  return divergent;
}

function compareReplicas(reads: readonly QueueRead[]): DivergentReplicas[] {
  const found: DivergentReplicas[] = [];
  for (let a = 0; a < reads.length; a++) {
    for (let b = a + 1; b < reads.length; b++) {
      const ra = reads[a] as QueueRead;
      const rb = reads[b] as QueueRead;
      const common = Math.min(ra.values.length, rb.values.length);
      for (let position = 0; position < common; position++) {
        const valueA = ra.values[position] as string;
        const valueB = rb.values[position] as string;
        if (valueA !== valueB) {
          found.push({ nodeA: ra.node, nodeB: rb.node, position, valueA, valueB });
          break;
        }
      }
    }
  }
  return found;
}

interface OrderResult {
  readonly listed: OrderViolation[];
  readonly count: number;
}

/**
 * Sweeps time once per node: at each invoke, every append acknowledged strictly earlier must sit
 * at a smaller position, so comparing with the largest such position suffices. At equal times the
 * invoke is processed first: the recorder could not order the two, so no order is required.
 */
function checkRealTimeOrder(
  reads: readonly QueueRead[],
  appends: Appends,
  maxListed: number,
): OrderResult {
  const listed: OrderViolation[] = [];
  let count = 0;
  // One time-sorted event list serves every node; each node skips values it does not hold.
  const events: { time: number; isAck: boolean; value: string }[] = [];
  for (const [value, op] of appends.byValue) {
    events.push({ time: op.call, isAck: false, value });
    if (op.status === "ok") events.push({ time: op.return, isAck: true, value });
  }
  events.sort((x, y) => x.time - y.time || Number(x.isAck) - Number(y.isAck));
  for (const read of reads) {
    const position = new Map<string, number>();
    read.values.forEach((value, index) => {
      if (!position.has(value)) position.set(value, index);
    });
    let maxAcked: { value: string; position: number } | undefined;
    for (const event of events) {
      const at = position.get(event.value);
      if (at === undefined) continue;
      if (event.isAck) {
        if (maxAcked === undefined || at > maxAcked.position) {
          maxAcked = { value: event.value, position: at };
        }
      } else if (maxAcked !== undefined && at < maxAcked.position) {
        count++;
        if (listed.length < maxListed) {
          listed.push({
            node: read.node,
            earlier: maxAcked.value,
            later: event.value,
            earlierPosition: maxAcked.position,
            laterPosition: at,
          });
        }
      }
    }
  }
  return { listed, count };
}
