import { FabricError } from "./fabric-error";

/** Longest subject or pattern accepted, in UTF-16 code units (frames carry a u16 byte length). */
export const MAX_SUBJECT_LENGTH = 4096;

/** Why a token is rejected: empty, or containing whitespace (which NATS treats as a separator). */
const BAD_TOKEN = /[\s]/;

function tokensOf(subject: string): string[] | undefined {
  if (subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) return undefined;
  const tokens = subject.split(".");
  for (const token of tokens) {
    if (token.length === 0 || BAD_TOKEN.test(token)) return undefined;
  }
  return tokens;
}

/** Whether `subject` is a valid concrete subject (no wildcard tokens), usable for publish. */
export function isValidSubject(subject: string): boolean {
  const tokens = tokensOf(subject);
  return tokens?.every((t) => t !== "*" && t !== ">") ?? false;
}

/** Whether `pattern` is a valid subscription: `*` tokens anywhere, `>` only as the last token. */
export function isValidPattern(pattern: string): boolean {
  const tokens = tokensOf(pattern);
  if (tokens === undefined) return false;
  const tail = tokens.indexOf(">");
  return tail === -1 || tail === tokens.length - 1;
}

/** Whether `pattern` contains a wildcard token. */
export function isWildcardPattern(pattern: string): boolean {
  return pattern.split(".").some((t) => t === "*" || t === ">");
}

/**
 * Whether the concrete `subject` matches `pattern`. Both must be valid; `*` matches exactly one
 * token, a final `>` one or more.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  return tokensMatch(pattern.split("."), subject.split("."));
}

function tokensMatch(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== "*" && p !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}

/** Throws `INVALID_SUBJECT` unless `subject` is a valid concrete subject. */
export function assertSubject(subject: string, what: string): void {
  if (!isValidSubject(subject)) {
    throw new FabricError("INVALID_SUBJECT", `invalid ${what} subject: ${JSON.stringify(subject)}`);
  }
}

/** Throws `INVALID_SUBJECT` unless `pattern` is a valid subscription pattern. */
export function assertPattern(pattern: string): void {
  if (!isValidPattern(pattern)) {
    throw new FabricError("INVALID_SUBJECT", `invalid subscription: ${JSON.stringify(pattern)}`);
  }
}

/**
 * A set of subscription patterns answering "does anything match this subject?". Exact subjects go
 * to a hash set (the Raft case); wildcards, which are rare, are scanned.
 */
export class InterestSet {
  private readonly exact = new Set<string>();
  private readonly wildcards = new Map<string, readonly string[]>();

  /** Number of distinct patterns held. */
  get size(): number {
    return this.exact.size + this.wildcards.size;
  }

  /** Adds `pattern` (valid). Returns false when it was already present. */
  add(pattern: string): boolean {
    if (this.has(pattern)) return false;
    if (isWildcardPattern(pattern)) this.wildcards.set(pattern, pattern.split("."));
    else this.exact.add(pattern);
    return true;
  }

  /** Removes `pattern`. Returns false when it was absent. */
  delete(pattern: string): boolean {
    return this.exact.delete(pattern) || this.wildcards.delete(pattern);
  }

  /** Whether `pattern` itself is held. */
  has(pattern: string): boolean {
    return this.exact.has(pattern) || this.wildcards.has(pattern);
  }

  /** Whether any held pattern matches the concrete `subject`. */
  matches(subject: string): boolean {
    if (this.exact.has(subject)) return true;
    if (this.wildcards.size === 0) return false;
    const tokens = subject.split(".");
    for (const pattern of this.wildcards.values()) {
      if (tokensMatch(pattern, tokens)) return true;
    }
    return false;
  }

  /** All held patterns. */
  patterns(): string[] {
    return [...this.exact, ...this.wildcards.keys()];
  }

  /** Removes everything. */
  clear(): void {
    this.exact.clear();
    this.wildcards.clear();
  }
}
