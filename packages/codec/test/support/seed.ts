import type { Parameters } from "fast-check";

/**
 * fast-check parameters for every property test of this package. fast-check prints the seed and
 * path of any failure; `SEED=<n> pnpm test` replays the run with that seed (add `PATH_=<path>` to
 * jump straight to the shrunk counterexample).
 */
export function propertyParameters<T>(numRuns: number): Parameters<T> {
  const { SEED: seedText, PATH_: pathText } = process.env;
  const parameters: Parameters<T> = { numRuns };
  if (seedText !== undefined && seedText !== "") {
    const seed = Number(seedText);
    if (!Number.isInteger(seed)) throw new Error(`SEED must be an integer, got ${seedText}`);
    return { ...parameters, seed, ...(pathText ? { path: pathText } : {}) };
  }
  return parameters;
}
