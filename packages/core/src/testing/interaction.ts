import type { CommittedEntry, LogRecord, OutboundMessage, ReadState, Ready } from "../types";
import { Cluster, type ClusterObserver, nodeId, TEST_TIMING } from "./cluster";
import { formatEntries, formatFrame, shortId } from "./format";

/** One command of an interaction script: `name arg arg ...`. */
export interface Command {
  readonly name: string;
  readonly args: readonly string[];
}

/**
 * Runs interaction scripts in the style of etcd-io/raft's datadriven tests: each command drives an
 * in-memory {@link Cluster} and returns the transcript of what happened (Ready batches, messages,
 * applied entries, states). Commands:
 *
 * - `cluster <n>`: a fresh cluster of nodes `n1`…`n<n>` with the nats-server test timing.
 * - `campaign <k>`: `campaignImmediately()` on node k, then tick 50 ms.
 * - `tick <ms>`: advance virtual time on every node.
 * - `process-ready <k>` / `deliver [<k>]` / `drop [<k>]`: one Ready of node k; all messages in
 *   flight (to node k); drop them.
 * - `stabilize`: handle Readies and deliver messages until nothing is left.
 * - `propose <k> <data>` / `forward <k> <data>` / `step-down <k> [<preferred>]`.
 * - `partition <k,k> <k,k>` / `heal` / `crash <k>` / `restart <k>`.
 * - `snapshot <k>`: node k's upper layer snapshots its state (`installSnapshot`).
 * - `read <k> <id>`: a read barrier on node k (`readIndex`).
 * - `add-peer <k> <j>` / `remove-peer <k> <j>`: node k proposes adding or removing node j.
 * - `status`: role, term, leader and progress of every live node; `log <k>`: its persisted log.
 */
export class InteractionEnv implements ClusterObserver {
  private cluster: Cluster | undefined;
  private lines: string[] = [];

  /** Run one command; returns its transcript (without trailing newline). */
  run(command: Command): string {
    this.lines = [];
    this.execute(command);
    return this.lines.join("\n");
  }

  private get c(): Cluster {
    if (this.cluster === undefined) throw new Error("run `cluster <n>` first");
    return this.cluster;
  }

  private id(arg: string | undefined): string {
    const n = Number(arg);
    if (!Number.isInteger(n) || n < 1 || n > this.c.ids.length) throw new Error(`bad node ${arg}`);
    return nodeId(n);
  }

  private execute({ name, args }: Command): void {
    switch (name) {
      case "cluster": {
        const n = Number(args[0] ?? 3);
        const ids = Array.from({ length: n }, (_, i) => nodeId(i + 1));
        this.cluster = new Cluster({ ids, timing: TEST_TIMING, observer: this });
        this.lines.push(`${n} nodes: ${ids.map(shortId).join(" ")}`);
        return;
      }
      case "campaign": {
        this.c.node(this.id(args[0])).campaignImmediately();
        this.c.advanceTime(50);
        this.lines.push(`t=${this.c.now}`);
        return;
      }
      case "tick":
        this.c.advanceTime(Number(args[0] ?? 0));
        this.lines.push(`t=${this.c.now}`);
        return;
      case "process-ready":
        this.processReady(this.id(args[0]));
        return;
      case "deliver":
        this.deliver(args[0] === undefined ? undefined : this.id(args[0]), false);
        return;
      case "drop":
        this.deliver(args[0] === undefined ? undefined : this.id(args[0]), true);
        return;
      case "stabilize":
        this.stabilize();
        return;
      case "propose":
      case "forward": {
        const node = this.c.node(this.id(args[0]));
        const data = Uint8Array.from(args[1] ?? "", (ch) => ch.charCodeAt(0));
        const r = name === "propose" ? node.propose(node.term, data) : node.forwardProposal(data);
        this.lines.push(r.ok ? "ok" : `${r.code} leader=${shortId(r.leaderId)}`);
        return;
      }
      case "step-down": {
        const preferred = args[1] === undefined ? undefined : this.id(args[1]);
        const r = this.c.node(this.id(args[0])).stepDown(preferred);
        this.lines.push(r.ok ? "ok" : `${r.code} leader=${shortId(r.leaderId)}`);
        return;
      }
      case "partition": {
        this.c.partition(args.map((g) => g.split(",").map((k) => this.id(k))));
        this.lines.push(`partitioned ${args.join(" | ")}`);
        return;
      }
      case "heal":
        this.c.heal();
        this.lines.push("healed");
        return;
      case "crash":
        this.c.crash(this.id(args[0]));
        this.lines.push(`${shortId(this.id(args[0]))} crashed`);
        return;
      case "restart":
        this.c.restart(this.id(args[0]));
        this.lines.push(`${shortId(this.id(args[0]))} restarted`);
        return;
      case "snapshot": {
        const r = this.c.snapshot(this.id(args[0]));
        this.lines.push(r.ok ? `ok index=${r.index}` : r.code);
        return;
      }
      case "read": {
        const id = this.c.node(this.id(args[0])).readIndex(args[1]);
        this.lines.push(`read ${id}`);
        return;
      }
      case "add-peer":
      case "remove-peer": {
        const node = this.c.node(this.id(args[0]));
        const peer = this.id(args[1]);
        const r = name === "add-peer" ? node.proposeAddPeer(peer) : node.proposeRemovePeer(peer);
        this.lines.push(r.ok ? "ok" : `${r.code} leader=${shortId(r.leaderId)}`);
        return;
      }
      case "status":
        this.status();
        return;
      case "log":
        this.log(this.id(args[0]));
        return;
      default:
        throw new Error(`unknown command ${name}`);
    }
  }

  private processReady(id: string): void {
    if (!this.c.processReady(id)) this.lines.push(`${shortId(id)}: no ready`);
  }

  private deliver(to: string | undefined, drop: boolean): void {
    const c = this.c;
    let i = 0;
    while (i < c.network.length) {
      const env = c.network[i];
      if (env === undefined || (to !== undefined && env.to !== to)) {
        i++;
        continue;
      }
      const verb = drop ? "drop" : c.connected(env.from, env.to) ? "deliver" : "lost";
      this.lines.push(
        `${verb} ${shortId(env.from)}->${shortId(env.to)} ${formatFrame(env.message.frame)}`,
      );
      if (drop) c.drop(i);
      else c.deliver(i);
    }
  }

  private stabilize(): void {
    const c = this.c;
    for (let round = 0; round < 1_000; round++) {
      let busy = false;
      for (const id of c.ids) {
        while (c.isUp(id) && c.node(id).hasReady()) {
          c.processReady(id);
          busy = true;
        }
      }
      if (c.network.length > 0) {
        this.deliver(undefined, false);
        busy = true;
      }
      if (!busy) return;
    }
    this.lines.push("did not stabilize in 1000 rounds");
  }

  private status(): void {
    const c = this.c;
    for (const id of c.ids) {
      if (!c.isUp(id)) {
        this.lines.push(`${shortId(id)}: down`);
        continue;
      }
      const n = c.node(id);
      const p = n.progress();
      this.lines.push(
        `${shortId(id)}: ${n.state} term=${n.term} leader=${shortId(n.leaderId)} ` +
          `isLeader=${n.isLeader()} last=${p.index} commit=${p.commit} applied=${p.applied}`,
      );
    }
  }

  private log(id: string): void {
    const s = this.c.storage(id);
    this.lines.push(`${shortId(id)}: term=${s.hardState.term} vote=${shortId(s.hardState.vote)}`);
    if (s.snapshot !== undefined)
      this.lines.push(`  snapshot ${s.snapshot.index}@${s.snapshot.term}`);
    for (let i = s.firstIndex(); i <= s.lastIndex(); i++) {
      this.lines.push(`  ${i}@${s.term(i)}`);
    }
  }

  private subjectName(subject: string): string {
    const owners = this.c.subscribers(subject).map(shortId).join(",");
    if (subject.startsWith("$NRG.V.")) return "vote";
    if (subject.startsWith("$NRG.AE.")) return "append";
    if (subject.startsWith("$NRG.P.")) return "proposal";
    if (subject.startsWith("$NRG.RP.")) return "remove-peer";
    if (subject.startsWith("$NRG.CR.")) return `catchup(${owners})`;
    return `inbox(${owners})`;
  }

  onSend(from: string, message: OutboundMessage, to: readonly string[]): void {
    const when = message.afterPersist ? "after persist" : "at once";
    const dest = to.length > 0 ? to.map(shortId).join(",") : "nobody";
    this.lines.push(
      `  ${shortId(from)} send (${when}) ${this.subjectName(message.subject)} -> ${dest}: ` +
        formatFrame(message.frame),
    );
  }

  onPersist(id: string, ready: Ready, dropped: readonly LogRecord[]): void {
    const parts: string[] = [];
    if (ready.hardState !== undefined) {
      parts.push(`hardState term=${ready.hardState.term} vote=${shortId(ready.hardState.vote)}`);
    }
    if (ready.peerState !== undefined) parts.push("peerState");
    if (ready.snapshot !== undefined) {
      parts.push(`snapshot ${ready.snapshot.index}@${ready.snapshot.term}`);
    }
    if (ready.truncateAfter !== undefined) {
      parts.push(`truncateAfter=${ready.truncateAfter} (dropped ${dropped.length})`);
    }
    if (ready.compactBefore !== undefined) parts.push(`compactBefore=${ready.compactBefore}`);
    if (ready.repair.length > 0) {
      parts.push(`repair ${ready.repair.map((r) => `${r.index}@${r.term}`).join(" ")}`);
    }
    if (ready.append.length > 0) {
      parts.push(`append ${ready.append.map((r) => `${r.index}@${r.term}`).join(" ")}`);
    }
    if (ready.softState !== undefined) {
      const s = ready.softState;
      parts.push(`soft ${s.state} term=${s.term} leader=${shortId(s.leaderId)}`);
    }
    if (ready.leadChange !== undefined) {
      parts.push(`leadChange isLeader=${ready.leadChange.isLeader} term=${ready.leadChange.term}`);
    }
    if (ready.replayDone) parts.push("replayDone");
    this.lines.push(`${shortId(id)} persisted: ${parts.join("; ") || "nothing"}`);
  }

  onApply(id: string, entry: CommittedEntry): void {
    this.lines.push(`  ${shortId(id)} apply ${entry.index} ${formatEntries(entry.entries)}`);
  }

  onReads(id: string, reads: readonly ReadState[]): void {
    for (const r of reads) {
      const outcome = r.code === undefined ? `confirmed at ${r.index}` : r.code;
      this.lines.push(`  ${shortId(id)} read ${r.id} ${outcome}`);
    }
  }

  onCrash(): void {}
}

/** One block of a script file: the command and its expected transcript. */
export interface ScriptBlock {
  readonly command: Command;
  readonly source: string;
  readonly expected: string;
}

/**
 * Parse a datadriven script: blocks of `command args` + `----` + transcript, separated by blank
 * lines; `#` lines outside blocks are comments (kept when rewriting).
 */
export function parseScript(text: string): { blocks: ScriptBlock[]; preamble: string[][] } {
  const lines = text.split("\n");
  const blocks: ScriptBlock[] = [];
  const preamble: string[][] = [];
  let comments: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.trim() === "" || line.startsWith("#")) {
      if (line.startsWith("#")) comments.push(line);
      i++;
      continue;
    }
    const source = line.trim();
    const [name = "", ...args] = source.split(/\s+/);
    i++;
    if ((lines[i] ?? "") !== "----") throw new Error(`line ${i + 1}: expected ----`);
    i++;
    const out: string[] = [];
    while (i < lines.length && (lines[i] ?? "") !== "") out.push(lines[i++] ?? "");
    preamble.push(comments);
    comments = [];
    blocks.push({ command: { name, args }, source, expected: out.join("\n") });
  }
  return { blocks, preamble };
}

/** Render a script with the given transcripts (what `UPDATE_GOLDEN=1` writes). */
export function renderScript(
  parsed: { blocks: readonly ScriptBlock[]; preamble: readonly (readonly string[])[] },
  outputs: readonly string[],
): string {
  const parts: string[] = [];
  parsed.blocks.forEach((b, i) => {
    const comments = parsed.preamble[i] ?? [];
    const out = outputs[i] ?? "";
    parts.push([...comments, b.source, "----", ...(out === "" ? [] : [out])].join("\n"));
  });
  return `${parts.join("\n\n")}\n`;
}
