/**
 * MessagePack helpers for the application operations that upper layers replicate through Raft.
 * msgpackr is configured for plain MessagePack (no records, no structured clone) so that any
 * MessagePack implementation can read what we write. The accepted subset: nil, booleans, numbers,
 * strings, binary, arrays, maps with string keys (decoded as plain objects), timestamps (Date) and
 * msgpackr's `undefined`; 64-bit integers decode as BigInt.
 */
import { Packr } from "msgpackr";
import { CodecError } from "./errors";
import { scanMessagePack } from "./msgpack-scan";

const packr = new Packr({ useRecords: false, moreTypes: false, copyBuffers: true });

/**
 * A fresh plain `Uint8Array` over the same memory. Fresh because msgpackr caches a DataView as a
 * property on the array it reads (we leave the caller's object alone); plain because on Node the
 * caller may hand us a Buffer, and binary values msgpackr slices from it would be Buffers too.
 */
function plainView(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Encodes `value` as one MessagePack value. The result is a new array owned by the caller.
 * Binary values (`Uint8Array`) are written as MessagePack `bin`.
 *
 * @throws CodecError BAD_PAYLOAD when msgpackr cannot encode the value (e.g. a cycle).
 */
export function encodePayload(value: unknown): Uint8Array {
  let packed: Uint8Array;
  try {
    packed = packr.pack(value);
  } catch (error) {
    throw new CodecError("BAD_PAYLOAD", "value cannot be encoded as MessagePack", {
      cause: error,
    });
  }
  const problem = scanMessagePack(packed);
  if (problem !== undefined) {
    // Only reachable when another module registered a global msgpackr extension.
    throw new CodecError("BAD_PAYLOAD", `value encodes outside the supported subset: ${problem}`);
  }
  // Copy: msgpackr returns a view into its own pooled buffer (a Node Buffer on Node); the copy is
  // a plain Uint8Array the caller owns and that pins no shared memory.
  const out = new Uint8Array(packed.length);
  out.set(packed);
  return out;
}

/**
 * Decodes exactly one MessagePack value filling all of `bytes`. Binary values in the result are
 * copies (they do not keep `bytes` alive). `bytes` is not modified.
 *
 * @throws CodecError BAD_PAYLOAD for empty, truncated or malformed input, for trailing bytes after
 *   the value, and for anything msgpackr rejects (the original error is the `cause`).
 */
export function decodePayload(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new CodecError("BAD_PAYLOAD", "payload is empty");
  const problem = scanMessagePack(bytes);
  if (problem !== undefined) throw new CodecError("BAD_PAYLOAD", `malformed payload: ${problem}`);
  try {
    // The scan admitted the structure; msgpackr can still fail (deep nesting, non-string map
    // keys, strings it cannot decode), and every such failure becomes a CodecError too.
    return packr.unpack(plainView(bytes));
  } catch (error) {
    throw new CodecError("BAD_PAYLOAD", "payload is not exactly one MessagePack value", {
      cause: error,
    });
  }
}
