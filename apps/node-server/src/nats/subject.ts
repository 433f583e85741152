/**
 * NATS subjects: tokens separated by `.`. A subscription may use the wildcards `*` (exactly one
 * token) and `>` (one or more trailing tokens, last token only); a published subject is literal.
 * Wildcard characters inside a longer token (`a*b`) are literal, as in NATS.
 */

/** Longest subject accepted anywhere (the control-line limit bounds it further). */
export const MAX_SUBJECT_LENGTH: number = 4096;

/** Splits a subject into tokens (no validation). */
export function tokenize(subject: string): string[] {
  return subject.split(".");
}

function tokensWellFormed(subject: string): boolean {
  if (subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) return false;
  // Whitespace would split the control line; empty tokens come from leading, trailing or double dots.
  if (/[\s]/.test(subject)) return false;
  return !(subject.startsWith(".") || subject.endsWith(".") || subject.includes(".."));
}

/**
 * True when `subject` is a valid subject to subscribe to: well-formed tokens, `*` only as a whole
 * token, `>` only as the whole last token.
 */
export function isValidSubscribeSubject(subject: string): boolean {
  if (!tokensWellFormed(subject)) return false;
  const tokens = tokenize(subject);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === ">" && i !== tokens.length - 1) return false;
  }
  return true;
}

/** True when `subject` is a valid subject to publish to: well-formed and without wildcard tokens. */
export function isValidPublishSubject(subject: string): boolean {
  if (!tokensWellFormed(subject)) return false;
  for (const t of tokenize(subject)) if (t === "*" || t === ">") return false;
  return true;
}

/** True when the valid subscribe subject `pattern` matches the valid publish subject `subject`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = tokenize(pattern);
  const s = tokenize(subject);
  for (let i = 0; i < p.length; i++) {
    const t = p[i];
    if (t === ">") return s.length > i;
    if (i >= s.length) return false;
    if (t !== "*" && t !== s[i]) return false;
  }
  return p.length === s.length;
}
