import { type LogRecord, openGroupStore, RECORD_HEADER_BYTES } from "../src/index";
import type { FaultyDisk } from "../src/testing/index";

const encoder = new TextEncoder();

/** Records `from..to` (inclusive) in `term`, each payload naming its index. */
export function records(from: number, to: number, term = 1): LogRecord[] {
  const out: LogRecord[] = [];
  for (let index = from; index <= to; index++) {
    out.push({ index, term, data: encoder.encode(`entry-${index}-t${term}`) });
  }
  return out;
}

/** The text of a payload written by {@link records}. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Resolves to the error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/** The error a function throws (fails the test if it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

/**
 * Writes records 1..n of `term` into store `/g`, one append round each (so each lands in its own
 * round), and closes it; returns each record's header offset in the single segment.
 */
export async function fill(disk: FaultyDisk, n: number, term = 1): Promise<number[]> {
  const store = await openGroupStore("/g", { disk });
  const offsets: number[] = [];
  let offset = 0;
  for (const record of records(1, n, term)) {
    offsets.push(offset);
    offset += RECORD_HEADER_BYTES + record.data.length;
    await store.append([record]);
  }
  await store.close();
  return offsets;
}
