/**
 * A structural check of MessagePack bytes, run before msgpackr sees them. msgpackr is built for
 * speed and for its own extensions: on hostile input it may return marker objects (0xc1), build
 * records or back-references from extension types, or allocate for forged lengths. This scan walks
 * the value iteratively (no recursion, so nesting depth cannot overflow the stack here), checks
 * every length against the bytes left, and admits only the core types plus the two extensions
 * that our encoder emits: timestamp (-1) and msgpackr's `undefined` (type 0, `d4 00 00`).
 */

/** Why a scan failed, or `undefined` when the bytes are exactly one admitted value. */
export function scanMessagePack(bytes: Uint8Array): string | undefined {
  const end = bytes.length;
  let offset = 0;
  // Values still to read. Each needs at least one byte, which bounds forged counts.
  let pending = 1;
  const need = (count: number): boolean => end - offset >= count;
  const readLength = (size: 1 | 2 | 4): number => {
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 0x100 + (bytes[offset + i] as number);
    offset += size;
    return value;
  };
  while (pending > 0) {
    if (pending > end - offset) return `needs ${pending} more values, ${end - offset} bytes left`;
    pending--;
    const token = bytes[offset++] as number;
    if (token <= 0x7f || token >= 0xe0) continue; // fixints
    if (token <= 0x8f) {
      pending += 2 * (token & 0x0f);
      continue;
    }
    if (token <= 0x9f) {
      pending += token & 0x0f;
      continue;
    }
    if (token <= 0xbf) {
      const length = token & 0x1f;
      if (!need(length)) return "truncated string";
      offset += length;
      continue;
    }
    switch (token) {
      case 0xc0: // nil
      case 0xc2: // false
      case 0xc3: // true
        break;
      case 0xc4: // bin 8/16/32
      case 0xc5:
      case 0xc6:
      case 0xd9: // str 8/16/32
      case 0xda:
      case 0xdb: {
        const size =
          token === 0xc4 || token === 0xd9 ? 1 : token === 0xc5 || token === 0xda ? 2 : 4;
        if (!need(size)) return "truncated length";
        const length = readLength(size);
        if (!need(length)) return "truncated bytes";
        offset += length;
        break;
      }
      case 0xca: // float 32
      case 0xce: // uint 32
      case 0xd2: // int 32
        if (!need(4)) return "truncated number";
        offset += 4;
        break;
      case 0xcb: // float 64
      case 0xcf: // uint 64
      case 0xd3: // int 64
        if (!need(8)) return "truncated number";
        offset += 8;
        break;
      case 0xcc: // uint 8
      case 0xd0: // int 8
        if (!need(1)) return "truncated number";
        offset += 1;
        break;
      case 0xcd: // uint 16
      case 0xd1: // int 16
        if (!need(2)) return "truncated number";
        offset += 2;
        break;
      case 0xdc: // array 16/32
      case 0xdd: {
        const size = token === 0xdc ? 2 : 4;
        if (!need(size)) return "truncated array length";
        pending += readLength(size);
        break;
      }
      case 0xde: // map 16/32
      case 0xdf: {
        const size = token === 0xde ? 2 : 4;
        if (!need(size)) return "truncated map length";
        pending += 2 * readLength(size);
        break;
      }
      case 0xd4: // fixext 1/2/4/8/16
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8: {
        const length = 1 << (token - 0xd4);
        if (!need(1 + length)) return "truncated extension";
        const problem = checkExtension(bytes[offset] as number, length);
        if (problem !== undefined) return problem;
        offset += 1 + length;
        break;
      }
      case 0xc7: // ext 8/16/32
      case 0xc8:
      case 0xc9: {
        const size = token === 0xc7 ? 1 : token === 0xc8 ? 2 : 4;
        if (!need(size)) return "truncated extension length";
        const length = readLength(size);
        if (!need(1 + length)) return "truncated extension";
        const problem = checkExtension(bytes[offset] as number, length);
        if (problem !== undefined) return problem;
        offset += 1 + length;
        break;
      }
      default:
        return `byte 0x${token.toString(16)} at offset ${offset - 1} is not a MessagePack type`;
    }
  }
  if (offset !== end) return `${end - offset} bytes after the value`;
  return undefined;
}

function checkExtension(type: number, length: number): string | undefined {
  // Timestamp 32/64/96 (type −1 = 0xff).
  if (type === 0xff && (length === 4 || length === 8 || length === 12)) return undefined;
  // msgpackr writes `undefined` as fixext 1 of type 0.
  if (type === 0x00 && length === 1) return undefined;
  return `extension type ${type} (${length} bytes) is not supported`;
}
