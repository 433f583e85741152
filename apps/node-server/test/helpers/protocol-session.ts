import type { Socket } from "node:net";
import { connect } from "node:net";

/** How long one wait of a scripted session may take before it gives up (and says so). */
export const STEP_TIMEOUT_MS = 2_000;

/** Silence on every connection for this long ends a session. */
const QUIET_MS = 60;

/**
 * What each connection of a session received, normalised for comparison between servers: the
 * `INFO` line becomes `INFO\r\n` (its contents differ by design; see {@link SessionResult.infos}),
 * a wait that timed out leaves `<timeout: …>` where it gave up, and the text ends in `<closed>` when
 * the server had closed the connection, `<open>` otherwise.
 */
export type Transcript = Record<string, string>;

/** The outcome of {@link runSession}. */
export interface SessionResult {
  readonly transcript: Transcript;
  /** The parsed `INFO` object each connection got first. */
  readonly infos: Record<string, Record<string, unknown>>;
}

/** The operations a session script has. Every wait is bounded by {@link STEP_TIMEOUT_MS}. */
export interface SessionDriver {
  /** Opens connection `name` and waits for its `INFO` line. */
  open(name: string): Promise<void>;
  /** Writes raw protocol text (latin1) on `name`. */
  send(name: string, text: string): void;
  /**
   * Sends `PING` on `name` and waits for the matching `PONG`: the server has handled everything
   * sent on `name` before it. (A closed connection ends the wait at once.)
   */
  sync(name: string): Promise<void>;
  /** Waits until `name` received `needle` at least `count` times in total, or was closed. */
  until(name: string, needle: string, count?: number): Promise<void>;
  /** Waits until the server closed `name`. */
  closed(name: string): Promise<void>;
}

interface Conn {
  readonly socket: Socket;
  text: string;
  isClosed: boolean;
}

/**
 * Runs `script` against the server at `127.0.0.1:port` on fresh raw TCP connections and returns
 * what each connection received once every connection has been quiet for a moment. Nothing throws
 * on a missing answer: a timed-out wait is recorded in the transcript, so that a comparison of two
 * servers shows where they part.
 */
export async function runSession(
  port: number,
  script: (s: SessionDriver) => Promise<void>,
): Promise<SessionResult> {
  const conns = new Map<string, Conn>();
  let lastDataAt = performance.now();
  const get = (name: string): Conn => {
    const c = conns.get(name);
    if (c === undefined) throw new Error(`session: no connection ${name}`);
    return c;
  };
  const waitUntil = async (name: string, what: string, done: () => boolean): Promise<void> => {
    const deadline = performance.now() + STEP_TIMEOUT_MS;
    while (!done()) {
      if (performance.now() > deadline) {
        get(name).text += `<timeout: ${what}>`;
        return;
      }
      await sleep(5);
    }
  };
  const count = (text: string, needle: string): number => text.split(needle).length - 1;

  const driver: SessionDriver = {
    async open(name) {
      const socket = connect({ host: "127.0.0.1", port });
      const conn: Conn = { socket, text: "", isClosed: false };
      conns.set(name, conn);
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        conn.text += chunk;
        lastDataAt = performance.now();
      });
      socket.on("error", (err) => {
        // A reset or a broken pipe is how a server's close looks when our PING was still in
        // flight (whether it is a reset depends on timing): it shows as `<closed>` like any
        // close. Anything else is worth seeing in the transcript.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ECONNRESET" || code === "EPIPE") return;
        conn.text += `<socket error: ${err.message}>`;
      });
      socket.on("close", () => {
        conn.isClosed = true;
      });
      await waitUntil(name, "INFO", () => /^INFO [^\n]*\n/.test(conn.text) || conn.isClosed);
    },
    send(name, text) {
      const c = get(name);
      if (!c.isClosed) c.socket.write(Buffer.from(text, "latin1"));
    },
    async sync(name) {
      const c = get(name);
      const before = count(c.text, "PONG\r\n");
      driver.send(name, "PING\r\n");
      await waitUntil(name, "PONG", () => c.isClosed || count(c.text, "PONG\r\n") > before);
    },
    async until(name, needle, times = 1) {
      const c = get(name);
      await waitUntil(name, needle, () => c.isClosed || count(c.text, needle) >= times);
    },
    async closed(name) {
      const c = get(name);
      await waitUntil(name, "close", () => c.isClosed);
    },
  };

  try {
    await script(driver);
    // Let stragglers (a late MSG, a close) arrive: quiet on every connection, bounded.
    const deadline = performance.now() + STEP_TIMEOUT_MS;
    while (performance.now() - lastDataAt < QUIET_MS && performance.now() < deadline) {
      await sleep(10);
    }
    const transcript: Transcript = {};
    const infos: Record<string, Record<string, unknown>> = {};
    for (const [name, c] of conns) {
      const info = /^INFO ([^\r\n]*?) ?\r?\n/.exec(c.text);
      if (info !== null) infos[name] = JSON.parse(info[1] ?? "{}") as Record<string, unknown>;
      const body = info === null ? c.text : `INFO\r\n${c.text.slice(info[0].length)}`;
      transcript[name] = body + (c.isClosed ? "<closed>" : "<open>");
    }
    return { transcript, infos };
  } finally {
    for (const c of conns.values()) c.socket.destroy();
  }
}

/** Replaces the text of every `-ERR '…'` line with `…`, for comparing where only wording differs. */
export function withoutErrText(transcript: Transcript): Transcript {
  return Object.fromEntries(
    Object.entries(transcript).map(([k, v]) => [
      k,
      v.replace(/-ERR '[^'\r\n]*'\r\n/g, "-ERR '…'\r\n"),
    ]),
  );
}

/**
 * The `MSG`/`HMSG` deliveries in a transcript, in order, as `subject sid [reply] body` strings
 * (`body` = header block plus payload for `HMSG`).
 */
export function deliveries(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)(H?MSG) ([^\r\n]*)\r\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const args = (m[2] ?? "").split(" ");
    const withHeaders = m[1] === "HMSG";
    const total = Number(args[args.length - 1]);
    const names = args.slice(0, args.length - (withHeaders ? 2 : 1));
    const start = m.index + m[0].length;
    out.push([...names, text.slice(start, start + total)].join(" "));
    re.lastIndex = start + total;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
