import { tokenize } from "./subject";

/** What a {@link Sublist} stores: a subscribe subject and an optional queue group. */
export interface SublistEntry {
  readonly subject: string;
  /** Queue group name; `undefined` for a plain subscription. */
  readonly queue: string | undefined;
}

/** The subscriptions interested in one published subject. */
export interface SublistMatch<T extends SublistEntry> {
  /** Plain subscriptions: each gets the message. */
  readonly plain: readonly T[];
  /** One array per queue group with interest: one member of each gets the message. */
  readonly groups: readonly (readonly T[])[];
}

interface Level<T extends SublistEntry> {
  readonly literal: Map<string, Level<T>>;
  star: Level<T> | undefined;
  /** Subscriptions ending in `>` at this level. */
  tail: Bucket<T> | undefined;
  /** Subscriptions ending exactly at this level. */
  here: Bucket<T> | undefined;
}

interface Bucket<T extends SublistEntry> {
  readonly plain: Set<T>;
  readonly groups: Map<string, Set<T>>;
}

/** Matches cached per published subject; cleared on every change (subscriptions change rarely). */
const MAX_CACHED_MATCHES = 1024;

/**
 * A subscription index: a tree with one level per subject token, holding literal tokens, `*` and
 * `>` apart, so that matching a published subject visits only the branches that can match it.
 * Results are cached per subject until the next insert or remove. Entries are compared by
 * identity; the caller owns them and must pass the same object to {@link Sublist.remove}.
 * Subjects must be valid subscribe subjects (see `isValidSubscribeSubject`); the sublist does not
 * validate them.
 */
export class Sublist<T extends SublistEntry> {
  readonly #root: Level<T> = newLevel();
  readonly #cache = new Map<string, SublistMatch<T>>();
  #count = 0;

  /** Number of entries stored. */
  get size(): number {
    return this.#count;
  }

  /** Adds `entry` (a second insert of the same object is a no-op). */
  insert(entry: T): void {
    const tokens = tokenize(entry.subject);
    let level = this.#root;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i] as string;
      if (t === ">" && i === tokens.length - 1) {
        level.tail ??= newBucket();
        if (addTo(level.tail, entry)) this.#changed(1);
        return;
      }
      let next: Level<T> | undefined;
      if (t === "*") {
        level.star ??= newLevel();
        next = level.star;
      } else {
        next = level.literal.get(t);
        if (next === undefined) {
          next = newLevel();
          level.literal.set(t, next);
        }
      }
      level = next;
    }
    level.here ??= newBucket();
    if (addTo(level.here, entry)) this.#changed(1);
  }

  /** Removes `entry`; returns false when it was not stored. Prunes levels left empty. */
  remove(entry: T): boolean {
    const tokens = tokenize(entry.subject);
    const path: { level: Level<T>; token: string }[] = [];
    let level: Level<T> | undefined = this.#root;
    let bucket: Bucket<T> | undefined;
    let isTail = false;
    for (let i = 0; i < tokens.length && level !== undefined; i++) {
      const t = tokens[i] as string;
      if (t === ">" && i === tokens.length - 1) {
        bucket = level.tail;
        isTail = true;
        break;
      }
      path.push({ level, token: t });
      level = t === "*" ? level.star : level.literal.get(t);
    }
    if (!isTail) bucket = level?.here;
    if (bucket === undefined || level === undefined || !removeFrom(bucket, entry)) return false;
    if (isBucketEmpty(bucket)) {
      if (isTail) level.tail = undefined;
      else level.here = undefined;
    }
    // Prune from the deepest level up while levels are empty.
    for (let i = path.length - 1; i >= 0; i--) {
      const { level: parent, token } = path[i] as { level: Level<T>; token: string };
      const child = token === "*" ? parent.star : parent.literal.get(token);
      if (child === undefined || !isLevelEmpty(child)) break;
      if (token === "*") parent.star = undefined;
      else parent.literal.delete(token);
    }
    this.#changed(-1);
    return true;
  }

  /** The entries whose subject matches the literal `subject`, split into plain and queue groups. */
  match(subject: string): SublistMatch<T> {
    const cached = this.#cache.get(subject);
    if (cached !== undefined) return cached;
    const plain: T[] = [];
    const groups = new Map<string, T[]>();
    collect(this.#root, tokenize(subject), 0, plain, groups);
    const result: SublistMatch<T> = { plain, groups: [...groups.values()] };
    if (this.#cache.size >= MAX_CACHED_MATCHES) this.#cache.clear();
    this.#cache.set(subject, result);
    return result;
  }

  #changed(delta: number): void {
    this.#count += delta;
    this.#cache.clear();
  }
}

function newLevel<T extends SublistEntry>(): Level<T> {
  return { literal: new Map(), star: undefined, tail: undefined, here: undefined };
}

function newBucket<T extends SublistEntry>(): Bucket<T> {
  return { plain: new Set(), groups: new Map() };
}

function addTo<T extends SublistEntry>(bucket: Bucket<T>, entry: T): boolean {
  if (entry.queue === undefined) {
    if (bucket.plain.has(entry)) return false;
    bucket.plain.add(entry);
    return true;
  }
  let group = bucket.groups.get(entry.queue);
  if (group === undefined) {
    group = new Set();
    bucket.groups.set(entry.queue, group);
  }
  if (group.has(entry)) return false;
  group.add(entry);
  return true;
}

function removeFrom<T extends SublistEntry>(bucket: Bucket<T>, entry: T): boolean {
  if (entry.queue === undefined) return bucket.plain.delete(entry);
  const group = bucket.groups.get(entry.queue);
  if (group === undefined || !group.delete(entry)) return false;
  if (group.size === 0) bucket.groups.delete(entry.queue);
  return true;
}

function isBucketEmpty<T extends SublistEntry>(bucket: Bucket<T>): boolean {
  return bucket.plain.size === 0 && bucket.groups.size === 0;
}

function isLevelEmpty<T extends SublistEntry>(level: Level<T>): boolean {
  return (
    level.literal.size === 0 &&
    level.star === undefined &&
    level.tail === undefined &&
    level.here === undefined
  );
}

function collectBucket<T extends SublistEntry>(
  bucket: Bucket<T> | undefined,
  plain: T[],
  groups: Map<string, T[]>,
): void {
  if (bucket === undefined) return;
  for (const e of bucket.plain) plain.push(e);
  for (const [name, members] of bucket.groups) {
    let into = groups.get(name);
    if (into === undefined) {
      into = [];
      groups.set(name, into);
    }
    for (const e of members) into.push(e);
  }
}

function collect<T extends SublistEntry>(
  level: Level<T>,
  tokens: readonly string[],
  i: number,
  plain: T[],
  groups: Map<string, T[]>,
): void {
  // `>` needs at least one more token.
  if (i < tokens.length) collectBucket(level.tail, plain, groups);
  if (i === tokens.length) {
    collectBucket(level.here, plain, groups);
    return;
  }
  const t = tokens[i] as string;
  const literal = level.literal.get(t);
  if (literal !== undefined) collect(literal, tokens, i + 1, plain, groups);
  if (level.star !== undefined) collect(level.star, tokens, i + 1, plain, groups);
}
