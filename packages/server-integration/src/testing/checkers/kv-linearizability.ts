import type { HistoryEvent } from "./history";
import type { KvInput, KvOutput } from "./kv-model";
import { kvOperationsFromHistory, kvRegisterModel } from "./kv-model";
import type { LinearizabilityOptions, LinearizabilityResult } from "./linearizability";
import { checkLinearizability } from "./linearizability";

/**
 * Checks a Jepsen-style KV history (put / get / cas per key, see {@link kvOperationsFromHistory})
 * for linearizability against {@link kvRegisterModel}.
 *
 * @throws {HistoryError} for a malformed history (the codes of {@link kvOperationsFromHistory}).
 */
export function checkKvHistory(
  events: readonly HistoryEvent[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult<KvInput, KvOutput> {
  return checkLinearizability(kvRegisterModel, kvOperationsFromHistory(events), options);
}
