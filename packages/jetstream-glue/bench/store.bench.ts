import { bench, describe } from "vitest";
import {
  decodeStreamSnapshot,
  encodeHeaderBlock,
  encodeStreamSnapshot,
  type StreamConfigInput,
  StreamStore,
  validateStreamConfig,
} from "../src/index";

const N = 100_000;
const data = new Uint8Array(128);
const subjects = Array.from({ length: 1000 }, (_, i) => `orders.${i}`);

function fill(config: Partial<StreamConfigInput>, withIds = false): StreamStore {
  const store = new StreamStore(
    validateStreamConfig({ name: "ORDERS", subjects: ["orders.*"], ...config }),
  );
  for (let i = 0; i < N; i++) {
    const headers = withIds ? encodeHeaderBlock({ "Nats-Msg-Id": `id-${i}` }) : undefined;
    const subject = subjects[i % subjects.length] as string;
    store.store(headers === undefined ? { subject, data } : { subject, headers, data }, i);
  }
  return store;
}

describe("StreamStore, 100k messages of 128 bytes on 1000 subjects", () => {
  bench("store, no limits", () => {
    fill({});
  });
  bench("store, discard old at max_msgs 10k", () => {
    fill({ max_msgs: 10_000 });
  });
  bench("store, history 1 per subject (KV)", () => {
    fill({ max_msgs_per_subject: 1 });
  });
  bench("store with Nats-Msg-Id de-duplication", () => {
    fill({}, true);
  });
  const full = fill({});
  bench("snapshot encode + decode of 100k messages", () => {
    decodeStreamSnapshot(encodeStreamSnapshot(full), "ORDERS");
  });
});
