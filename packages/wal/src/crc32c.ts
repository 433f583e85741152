// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8: eight 256-entry tables let
// the main loop consume 8 bytes per step, which is what makes checksumming every record cheap.
const POLY = 0x82f63b78;
const TABLE = new Int32Array(256 * 8);

for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  TABLE[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLE[n] as number;
  for (let t = 1; t < 8; t++) {
    c = (TABLE[c & 0xff] as number) ^ (c >>> 8);
    TABLE[t * 256 + n] = c;
  }
}

/**
 * CRC32C of `bytes[start, end)`, continuing from `seed` (the result of an earlier call over the
 * preceding bytes; 0 to start fresh). Returns an unsigned 32-bit integer. `start`/`end` default to
 * the whole array.
 */
export function crc32c(bytes: Uint8Array, start = 0, end: number = bytes.length, seed = 0): number {
  const t = TABLE;
  let c = ~seed;
  let i = start;
  while (end - i >= 8) {
    const lo =
      c ^
      ((bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24));
    c =
      (t[1792 + (lo & 0xff)] as number) ^
      (t[1536 + ((lo >>> 8) & 0xff)] as number) ^
      (t[1280 + ((lo >>> 16) & 0xff)] as number) ^
      (t[1024 + (lo >>> 24)] as number) ^
      (t[768 + (bytes[i + 4] as number)] as number) ^
      (t[512 + (bytes[i + 5] as number)] as number) ^
      (t[256 + (bytes[i + 6] as number)] as number) ^
      (t[bytes[i + 7] as number] as number);
    i += 8;
  }
  while (i < end) {
    c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
    i++;
  }
  return ~c >>> 0;
}
