import { toError } from "@raft/codec";
import type { FabricCounters } from "./metrics";
import { isWildcardPattern, subjectMatches } from "./subject";
import type { FabricHandler, FabricLogger, FabricMessage } from "./types";

interface Entry {
  readonly id: number;
  readonly pattern: string;
  readonly handler: FabricHandler;
}

/**
 * The local subscriptions of one fabric, with a reference count per pattern so that interest is
 * announced to peers once per pattern however many handlers share it.
 */
export class SubscriptionTable {
  private nextId = 1;
  private readonly byId = new Map<number, Entry>();
  private readonly exact = new Map<string, Map<number, Entry>>();
  private readonly wildcard = new Map<string, Map<number, Entry>>();
  private readonly counters: FabricCounters;
  private readonly logger: FabricLogger;

  constructor(counters: FabricCounters, logger: FabricLogger) {
    this.counters = counters;
    this.logger = logger;
  }

  /** Adds a handler; `first` is true when no other handler had this pattern. */
  add(pattern: string, handler: FabricHandler): { id: number; first: boolean } {
    const id = this.nextId++;
    const entry: Entry = { id, pattern, handler };
    const map = isWildcardPattern(pattern) ? this.wildcard : this.exact;
    let group = map.get(pattern);
    const first = group === undefined;
    if (group === undefined) {
      group = new Map();
      map.set(pattern, group);
    }
    group.set(id, entry);
    this.byId.set(id, entry);
    return { id, first };
  }

  /** Removes a handler; `last` is true when it was the final handler of its pattern. */
  remove(id: number): { pattern: string; last: boolean } | undefined {
    const entry = this.byId.get(id);
    if (entry === undefined) return undefined;
    this.byId.delete(id);
    const map = isWildcardPattern(entry.pattern) ? this.wildcard : this.exact;
    const group = map.get(entry.pattern);
    group?.delete(id);
    const last = group === undefined || group.size === 0;
    if (last) map.delete(entry.pattern);
    return { pattern: entry.pattern, last };
  }

  /** Every pattern with at least one handler. */
  patterns(): string[] {
    return [...this.exact.keys(), ...this.wildcard.keys()];
  }

  /** Whether any handler would receive a message on `subject`. */
  hasMatch(subject: string): boolean {
    if (this.exact.has(subject)) return true;
    for (const pattern of this.wildcard.keys()) {
      if (subjectMatches(pattern, subject)) return true;
    }
    return false;
  }

  /** Calls every matching handler; a throwing handler is logged and counted, never rethrown. */
  deliver(msg: FabricMessage): number {
    const targets: Entry[] = [];
    const exact = this.exact.get(msg.subject);
    if (exact !== undefined) targets.push(...exact.values());
    for (const [pattern, group] of this.wildcard) {
      if (subjectMatches(pattern, msg.subject)) targets.push(...group.values());
    }
    // Handlers are collected first so that one handler unsubscribing another during delivery
    // cannot skip or repeat anyone; a handler removed meanwhile is not called.
    let delivered = 0;
    for (const entry of targets) {
      if (!this.byId.has(entry.id)) continue;
      delivered++;
      this.counters.deliveries++;
      try {
        entry.handler(msg);
      } catch (err) {
        this.counters.handlerErrors++;
        this.logger.error(
          { err: toError(err), subject: msg.subject, pattern: entry.pattern },
          "subscription handler threw",
        );
      }
    }
    return delivered;
  }

  /** Drops every handler. */
  clear(): void {
    this.byId.clear();
    this.exact.clear();
    this.wildcard.clear();
  }
}

/** A logger that discards everything: the default of every fabric. */
export const noopLogger: FabricLogger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
});
