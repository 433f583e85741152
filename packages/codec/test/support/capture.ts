import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One frame of testdata/nats-2.9.10/frames.jsonl (copied from shared/vectors, see its README). */
export interface CapturedFrame {
  readonly seq: number;
  readonly via: number;
  readonly t: number;
  readonly subject: string;
  readonly reply: string;
  readonly bytes: Uint8Array;
}

const CAPTURE_PATH = fileURLToPath(
  new URL("../../testdata/nats-2.9.10/frames.jsonl", import.meta.url),
);

/** Hex string → bytes (test helper; strict about the alphabet and even length). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Bytes → lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Every captured frame, in file order. */
export function loadCapture(): CapturedFrame[] {
  const lines = readFileSync(CAPTURE_PATH, "utf8")
    .split("\n")
    .filter((line) => line.length > 0);
  return lines.map((line) => {
    const raw = JSON.parse(line) as {
      seq: number;
      via: number;
      t: number;
      subject: string;
      reply: string;
      hex: string;
    };
    return { ...raw, bytes: fromHex(raw.hex) };
  });
}
