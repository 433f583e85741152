/**
 * The run's trace: one line per event, `time node kind detail`. It is always hashed (FNV-1a, two
 * independent 32-bit lanes) so that two runs of one seed can be compared cheaply; the lines are
 * kept or streamed only on request.
 */
export class Trace {
  readonly #keep: boolean;
  readonly #sink: ((line: string) => void) | undefined;
  readonly lines: string[] = [];
  #h1 = 0x811c9dc5;
  #h2 = 0x01000193;
  #count = 0;
  /** Whether anything consumes lines beyond the hash (formatting costs time). */
  readonly enabled: boolean;

  /**
   * @param mode - `"off"`: nothing recorded, not even the hash; `"hash"`: hashed only;
   *   `"lines"`: hashed and kept in {@link lines}.
   * @param sink - receives every line as it is written (the CLI prints them).
   */
  constructor(mode: "off" | "hash" | "lines", sink?: (line: string) => void) {
    this.#keep = mode === "lines";
    this.#sink = sink;
    this.enabled = mode !== "off" || sink !== undefined;
  }

  /** Appends one line. */
  write(time: number, node: string, kind: string, detail: string): void {
    if (!this.enabled) return;
    const line = `${formatTime(time)} ${node.padEnd(3)} ${kind.padEnd(8)} ${detail}`;
    this.#count++;
    let h1 = this.#h1;
    let h2 = this.#h2;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
    }
    // A line separator, so that ["ab", "c"] and ["a", "bc"] hash differently.
    this.#h1 = Math.imul(h1 ^ 10, 0x01000193);
    this.#h2 = Math.imul(h2 ^ 10, 0x5bd1e995) ^ (h2 >>> 15);
    if (this.#keep) this.lines.push(line);
    this.#sink?.(line);
  }

  /** Lines written so far. */
  get count(): number {
    return this.#count;
  }

  /** The 64-bit hash of every line so far, as 16 hex digits. */
  hash(): string {
    const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");
    return `${hex(this.#h1)}${hex(this.#h2)}`;
  }
}

/** `12345` ms → `"   12.345"` seconds, fixed width. */
export function formatTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const rest = String(Math.floor(ms % 1000)).padStart(3, "0");
  return `${String(s).padStart(5)}.${rest}`;
}
