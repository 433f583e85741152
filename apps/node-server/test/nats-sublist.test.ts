import { describe, expect, it } from "vitest";
import {
  isValidPublishSubject,
  isValidSubscribeSubject,
  subjectMatches,
} from "../src/nats/subject";
import type { SublistEntry } from "../src/nats/sublist";
import { Sublist } from "../src/nats/sublist";
import { forAll, int, pick } from "./helpers/seeded";

interface Entry extends SublistEntry {
  readonly id: string;
}

function entry(id: string, subject: string, queue?: string): Entry {
  return { id, subject, queue };
}

function ids(list: readonly Entry[]): string[] {
  return list.map((e) => e.id).sort();
}

describe("subject validation", () => {
  it("accepts wildcards only as whole tokens in subscriptions, and never in publications", () => {
    for (const s of [
      "a",
      "a.b",
      "a.*",
      "*.b",
      "a.>",
      ">",
      "*",
      "a.*.c.>",
      "a*b.c",
      "$RAFT.KV.PUT.k",
    ]) {
      expect(isValidSubscribeSubject(s), s).toBe(true);
    }
    for (const s of ["", ".", "a.", ".a", "a..b", "a.>.b", ">.a", "a b", "a\tb", "a\r"]) {
      expect(isValidSubscribeSubject(s), JSON.stringify(s)).toBe(false);
    }
    for (const s of ["a", "a.b", "a*b", "_INBOX.x.y", "$RAFT.KV.PUT.k.with.dots"]) {
      expect(isValidPublishSubject(s), s).toBe(true);
    }
    for (const s of ["", "a.*", ">", "a.>", "a..b", "a.", "a b"]) {
      expect(isValidPublishSubject(s), JSON.stringify(s)).toBe(false);
    }
  });
});

describe("Sublist", () => {
  it("matches literal, * and > subscriptions", () => {
    const list = new Sublist<Entry>();
    const all = [
      entry("lit", "a.b.c"),
      entry("star-mid", "a.*.c"),
      entry("star-end", "a.b.*"),
      entry("gt", "a.>"),
      entry("gt-root", ">"),
      entry("other", "x.y"),
      entry("short", "a.b"),
    ];
    for (const e of all) list.insert(e);
    expect(list.size).toBe(all.length);
    expect(ids(list.match("a.b.c").plain)).toEqual([
      "gt",
      "gt-root",
      "lit",
      "star-end",
      "star-mid",
    ]);
    expect(ids(list.match("a.b").plain)).toEqual(["gt", "gt-root", "short"]);
    // `>` needs at least one token after its prefix.
    expect(ids(list.match("a").plain)).toEqual(["gt-root"]);
    expect(ids(list.match("a.b.c.d").plain)).toEqual(["gt", "gt-root"]);
    expect(ids(list.match("x.y").plain)).toEqual(["gt-root", "other"]);
  });

  it("groups queue subscriptions by queue name across subjects", () => {
    const list = new Sublist<Entry>();
    list.insert(entry("q1", "job.*", "workers"));
    list.insert(entry("q2", "job.run", "workers"));
    list.insert(entry("q3", "job.run", "auditors"));
    list.insert(entry("p", "job.run"));
    const m = list.match("job.run");
    expect(ids(m.plain)).toEqual(["p"]);
    expect(m.groups.map((g) => ids(g)).sort()).toEqual([["q1", "q2"], ["q3"]]);
  });

  it("removes entries, prunes empty levels and invalidates cached matches", () => {
    const list = new Sublist<Entry>();
    const a = entry("a", "a.b.>");
    const b = entry("b", "a.*.c");
    list.insert(a);
    list.insert(a);
    list.insert(b);
    expect(list.size).toBe(2);
    expect(ids(list.match("a.b.c").plain)).toEqual(["a", "b"]);
    expect(list.remove(a)).toBe(true);
    expect(list.remove(a)).toBe(false);
    expect(ids(list.match("a.b.c").plain)).toEqual(["b"]);
    expect(list.remove(entry("b", "a.*.c"))).toBe(false); // identity, not equality
    expect(list.remove(b)).toBe(true);
    expect(list.size).toBe(0);
    expect(list.match("a.b.c").plain).toEqual([]);
  });

  it("agrees with a direct subject comparison on random subscriptions and subjects", () => {
    const tokens = ["a", "b", "c"];
    forAll(300, (next) => {
      const list = new Sublist<Entry>();
      const entries: Entry[] = [];
      for (let i = int(next, 0, 20); i > 0; i--) {
        const parts = Array.from({ length: int(next, 1, 4) }, () => pick(next, [...tokens, "*"]));
        if (next() < 0.3) parts.push(">");
        const e = entry(String(entries.length), parts.join("."), next() < 0.3 ? "q" : undefined);
        entries.push(e);
        list.insert(e);
      }
      // Remove a random part, to exercise pruning.
      for (const e of entries.filter(() => next() < 0.3)) {
        list.remove(e);
        entries.splice(entries.indexOf(e), 1);
      }
      for (let i = 0; i < 20; i++) {
        const subject = Array.from({ length: int(next, 1, 5) }, () => pick(next, tokens)).join(".");
        const m = list.match(subject);
        const got = ids([...m.plain, ...m.groups.flat()]);
        const want = ids(entries.filter((e) => subjectMatches(e.subject, subject)));
        expect(got, subject).toEqual(want);
      }
    });
  });
});
