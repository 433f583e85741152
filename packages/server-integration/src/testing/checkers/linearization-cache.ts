import type { Model } from "./model";

/** The part of a {@link Model} the cache needs: state identity. */
export type StateIdentity<TState> = Pick<Model<TState, never, never>, "equal" | "hash">;

/**
 * The memo set of the Wing–Gong–Lowe search: pairs (set of linearized operations, model state) the
 * search has already reached. Reaching the same pair twice means the same future, so the second
 * visit is pruned. Keys are exact: a hash only selects a bucket, and a hit needs an equal bitset
 * and `model.equal` states, so a hash collision never prunes a live branch.
 */
export class LinearizationCache<TState> {
  readonly #model: StateIdentity<TState>;
  readonly #buckets = new Map<number, CacheEntry<TState>[]>();
  readonly #entryBytes: number;
  #bytes = 0;

  constructor(model: StateIdentity<TState>, bitsetWords: number) {
    this.#model = model;
    // Rough per-entry footprint: the copied bitset plus object, array slot and map overhead.
    this.#entryBytes = bitsetWords * 4 + 96;
  }

  /** Approximate bytes held, for the memory budget. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Adds (bits, state) unless already present. `hashA` / `hashB` are two independent hashes of
   * `bits` (maintained incrementally by the caller). Returns true when the pair is new. `bits` is
   * copied, so the caller may keep mutating its own array.
   */
  addIfAbsent(bits: Uint32Array, hashA: number, hashB: number, state: TState): boolean {
    const stateHash = hashState(this.#model.hash(state));
    const key = (hashA ^ stateHash) >>> 0;
    const bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      for (const entry of bucket) {
        if (
          entry.hashB === hashB &&
          bitsEqual(entry.bits, bits) &&
          this.#model.equal(entry.state, state)
        ) {
          return false;
        }
      }
    }
    const entry: CacheEntry<TState> = { hashB, bits: bits.slice(), state };
    if (bucket === undefined) this.#buckets.set(key, [entry]);
    else bucket.push(entry);
    this.#bytes += this.#entryBytes;
    return true;
  }
}

interface CacheEntry<TState> {
  readonly hashB: number;
  readonly bits: Uint32Array;
  readonly state: TState;
}

function bitsEqual(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/** A 32-bit avalanche mix (murmur3 finaliser); spreads small integers over all bits. */
export function mix32(value: number): number {
  let x = value | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function hashString(text: string): number {
  // FNV-1a over UTF-16 code units, then mixed so that similar strings spread over buckets.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return mix32(h);
}

function hashState(hash: number | string): number {
  if (typeof hash === "number" && Number.isInteger(hash) && Math.abs(hash) <= 0x7fffffff) {
    return mix32(hash);
  }
  return hashString(String(hash));
}
